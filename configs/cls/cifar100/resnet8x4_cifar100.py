# The CIFAR-100 student, ResNet8x4, trained alone (the baseline), 240 epochs.
_base_ = ['../../_base_/cifar100_kd.py', '../../_base_/models/cifar_resnets.py']
model = _base_.resnet8x4
