# CWD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x.
# Same settings as the R50 student; both FPNs have 256 channels.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r18_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P2..P6
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))
