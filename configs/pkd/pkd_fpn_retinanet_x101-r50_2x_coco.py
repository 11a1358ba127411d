# PKD on the FPN: RetinaNet X101-64x4d 1x (41.0) -> RetinaNet R50 2x (37.4); published 40.8
# (mmrazor configs/distill/mmdet/pkd/metafile.yml and README).
# Settings of mmrazor 1.0 `pkd_fpn_retina_x101_retina_r50_2x_coco.py` (on its Faster R-CNN
# base): PKDLoss weight 10 on neck outputs 0..3 (P3..P6; P7 is not distilled), teacher
# through extract_feat only, mmdet's RetinaNet 2x schedule (SGD lr 0.01, 8 GPUs x 2
# images), no gradient clipping, no inherit initialisation.
_base_ = ['../_base_/pairs/retinanet_x101-r50_2x_coco.py', '../_base_/distillers/pkd_fpn.py']

levels = range(4)  # P3..P6 (neck outputs 0..3), as mmrazor's config
model = dict(
    distiller=dict(
        _base_.pkd_fpn_distiller,
        distill_losses={f'loss_pkd_fpn{i}': dict(_base_.pkd_loss, loss_weight=10.0)
                        for i in levels},
        loss_forward_mappings={f'loss_pkd_fpn{i}': _base_.pkd_level_mappings[i]
                               for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
