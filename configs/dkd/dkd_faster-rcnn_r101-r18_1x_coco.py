# DKD on the RoI class logits: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x
# (DKD paper: 35.05, 37.01 with ReviewKD). alpha 1, beta 0.25, T 1.
_base_ = ['../students/faster-rcnn_r18_fpn_1x_coco.py', '../_base_/distillers/dkd_roi.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth'  # noqa: E501
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.RoIHeadDistill',
    architecture=_base_.model,  # the student config this file inherits
    teacher=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
                 pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
