# CrossKD + PKD: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2); published 43.9 (CrossKD README).
# Settings of jbwang1997/CrossKD `configs/crosskd+pkd/crosskd+pkd_r50_gflv1_r101-2x-ms_fpn_1x_coco.py`:
# CrossKD at reused_teacher_head_idx=3 with KDQualityFocalLoss beta 1 weight 1 and the KL on
# the edge distributions (T 1, summed over the bins) weight 4, no GIoU term; PKD weight 6 on
# each of the five FPN outputs (student neck vs teacher neck); mmdet's 1x schedule (SGD lr
# 0.01, 8 GPUs x 2 images), no gradient clipping.
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/crosskd.py',
          '../_base_/distillers/pkd_fpn.py']

levels = range(5)  # P3..P7
model = dict(
    type='kd_mmdet.CrossKDDistill',
    reused_teacher_head_idx=3,
    loss_cls_kd=_base_.crosskd_gfl_losses['loss_cls_kd'],
    loss_reg_kd=dict(_base_.crosskd_gfl_losses['loss_reg_kd'], loss_weight=4.0),
    loss_bbox_kd=None,
    distiller=dict(
        _base_.pkd_fpn_distiller,
        distill_losses={f'loss_pkd_fpn{i}': dict(_base_.pkd_loss, loss_weight=6.0)
                        for i in levels},
        loss_forward_mappings={f'loss_pkd_fpn{i}': _base_.pkd_level_mappings[i]
                               for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
