# DKD on the RoI class logits: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x
# (DKD paper: 35.05, 37.01 with ReviewKD). alpha 1, beta 0.25, T 1.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r18_1x_coco.py', '../_base_/distillers/dkd_roi.py']

model = dict(
    type='kd_mmdet.RoIHeadDistill',
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))
