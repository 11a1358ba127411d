# DKD on the RoI class logits: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R50 1x
# (37.4; DKD paper: 39.25, 40.65 with ReviewKD). alpha 1, beta 0.25, T 1.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r50_1x_coco.py', '../_base_/distillers/dkd_roi.py']

model = dict(
    type='kd_mmdet.RoIHeadDistill',
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))
