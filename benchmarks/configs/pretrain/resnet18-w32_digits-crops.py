# The toy student's backbone (ResNet-18, 32 base channels: C5 256) as a digit classifier.
_base_ = ['./_digits_crops.py']
model = _base_.resnet18_w32_classifier
