# GFL ResNet-18 student on COCO (the R101 -> R18 pairs): mmdet's R50 1x recipe with the
# ResNet-18 backbone (ImageNet init) and its C2..C5 widths into the FPN.
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py', '../_base_/kd_runtime.py']
model = dict(
    _scope_='mmdet',  # lets a distiller build this dict under the mmrazor scope
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
