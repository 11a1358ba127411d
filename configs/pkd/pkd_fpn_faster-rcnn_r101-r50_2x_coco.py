# PKD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R50 2x (38.4); published 40.4
# (mmrazor configs/distill/mmdet/pkd/metafile.yml; its README table says 40.3).
# Settings of mmrazor 1.0 `pkd_fpn_frcnn_r101_frcnn_r50_2x_coco.py`: PKDLoss weight 6 on
# neck outputs 0..3 (P2..P5), teacher run through extract_feat only (FpnTeacherDistill;
# here SingleTeacherDistill's teacher_forward='auto' picks the same), mmdet's 2x schedule
# (SGD lr 0.02, 8 GPUs x 2 images), no gradient clipping, no inherit initialisation.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r50_2x_coco.py', '../_base_/distillers/pkd_fpn.py']

levels = range(4)  # P2..P5 (neck outputs 0..3); P6 is a max-pool of P5
model = dict(
    distiller=dict(
        _base_.pkd_fpn_distiller,
        distill_losses={f'loss_pkd_fpn{i}': dict(_base_.pkd_loss, loss_weight=6.0)
                        for i in levels},
        loss_forward_mappings={f'loss_pkd_fpn{i}': _base_.pkd_level_mappings[i]
                               for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
