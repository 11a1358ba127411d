# Toy GFL pair on the digits set: ResNet-50 (FPN 128) teaches ResNet-18 at half width
# (FPN 64), both from ../models/toy_detectors.py. Every distillation config of this pair
# inherits this file and adds its distiller. Teacher first:
#   python tools/train.py configs/toy/gfl_teacher_digits.py
_base_ = ['../toy_digits_det.py', '../models/toy_detectors.py']

teacher_ckpt = 'work_dirs/gfl_teacher_digits/epoch_12.pth'
model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=_base_.gfl_student,
    teacher=_base_.gfl_teacher,
    teacher_ckpt=teacher_ckpt)
# The teacher's parameters never receive gradients; DDP must not wait for them.
find_unused_parameters = True
# Evaluates the student, then the teacher (logged as teacher.coco/bbox_mAP).
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
