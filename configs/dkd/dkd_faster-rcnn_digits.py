# DKD on the RoI class logits, toy Faster R-CNN pair on the digits set: the teacher's RoI
# head classifies the student's sampled RoIs (kd_mmdet.RoIHeadDistill).
_base_ = ['../_base_/pairs/faster-rcnn_digits.py', '../_base_/distillers/dkd_roi.py']

model = dict(
    type='kd_mmdet.RoIHeadDistill',
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))
