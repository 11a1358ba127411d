# DKD on the RoI class logits, toy Faster R-CNN pair on the digits set: the teacher's RoI
# head classifies the student's sampled RoIs (kd_mmdet.RoIHeadDistill).
# Teacher first:  python tools/train.py configs/toy/faster-rcnn_teacher_digits.py
_base_ = ['../_base_/toy_digits_det.py', '../_base_/models/toy_detectors.py',
          '../_base_/distillers/dkd_roi.py']

teacher_ckpt = 'work_dirs/faster-rcnn_teacher_digits/epoch_12.pth'
model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.RoIHeadDistill',
    architecture=_base_.faster_rcnn_student,
    teacher=_base_.faster_rcnn_teacher,
    teacher_ckpt=teacher_ckpt,
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))
find_unused_parameters = True
# Evaluates the student, then the teacher (logged as teacher.coco/bbox_mAP).
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
