# Distillation on the digits classification set: ResNet-20 teaches ResNet-8 (same widths
# 16, 32, 64; ../_base_/models/toy_classifiers.py), data and schedule unchanged from the
# teacher's and student's own runs, so every row of configs/cls/README.md is comparable.
# Teacher first:  python tools/train.py configs/cls/toy/resnet20_digits.py \
#                     --work-dir work_dirs/cls_resnet20_digits
_base_ = ['./toy_digits_cls.py', './models/toy_classifiers.py']

teacher = _base_.cls_teacher
student = _base_.cls_student
student_head = _base_.cls_student.head
teacher_ckpt = 'work_dirs/cls_resnet20_digits/epoch_15.pth'
teacher_channels = _base_.cls_teacher_channels
student_channels = _base_.cls_student_channels
num_classes = 10
# Every method config of this pair starts from this algorithm (BLD changes its type).
model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
