# The CIFAR-100 teacher, ResNet32x4 (../../_base_/models/cifar_resnets.py), 240 epochs.
_base_ = ['../../_base_/cifar100_kd.py', '../../_base_/models/cifar_resnets.py']
model = _base_.resnet32x4
