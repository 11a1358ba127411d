# Faster R-CNN ResNet-18 student on COCO: mmdet's R50 1x recipe with ResNet-18.
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', '../_base_/kd_runtime.py']
model = dict(
    _scope_='mmdet',  # lets a distiller build this dict under the mmrazor scope
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
