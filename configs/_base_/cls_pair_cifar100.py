# Distillation on CIFAR-100: ResNet32x4 (79.42 top-1 in CRD/DKD) teaches ResNet8x4
# (72.50 alone). mmpretrain's zoo has no ResNet32x4: train it first with
#   python tools/train.py configs/cls/cifar100/resnet32x4_cifar100.py \
#       --work-dir work_dirs/cls_resnet32x4_cifar100
_base_ = ['./cifar100_kd.py', './models/cifar_resnets.py']

teacher = _base_.resnet32x4
student = _base_.resnet8x4
student_head = _base_.resnet8x4.head
teacher_ckpt = 'work_dirs/cls_resnet32x4_cifar100/epoch_240.pth'
teacher_channels = _base_.resnet_x4_channels
student_channels = _base_.resnet_x4_channels
num_classes = 100
# Every method config of this pair starts from this algorithm (BLD changes its type).
model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
