# CWD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R50 1x (37.4).
# tau=1, weight 10 per level on all 5 neck outputs: mmrazor 1.0 `cwd_fpn_frcnn_r101_frcnn_r50_1x_coco`.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r50_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P2..P6
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))
