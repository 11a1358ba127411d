# CWD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R50 1x (37.4).
# No published number. Recipe of mmrazor 1.x configs/distill/mmdet/cwd/
# cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py: tau=1, weight 10 on all 5 neck outputs, 1x
# schedule (lr 0.02), teacher faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r50_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P2..P6
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
