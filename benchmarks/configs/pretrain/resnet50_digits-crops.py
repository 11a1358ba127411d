# The toy teacher's backbone (ResNet-50, 64 base channels: C5 2048) as a digit classifier.
_base_ = ['./_digits_crops.py']
model = _base_.resnet50_classifier
