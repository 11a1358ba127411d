# COCO pair of the detection plan (configs/plan/): GFL X101-32x4d ms-2x (45.9, mmdet 3.3
# model zoo `gfl_x101-32x4d_fpn_ms-2x_coco`) teaches GFL R18 1x (configs/students).
# The R101 pair with the teacher swapped: student, distillation algorithm and validation
# loop are inherited. Widths: the X101 teacher is mmdet's GFL R50 ms-2x model with a
# ResNeXt backbone, so its FPN (256 channels, P3..P7) and head (4 stacked convs of 256,
# 80 classes, reg_max 16) are the student's; only the FPN inputs differ (C2..C5 of
# 256..2048 vs 64..512), and each FPN's own lateral convs absorb that.
_base_ = ['./gfl_r101-r18_1x_coco.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_x101_32x4d_fpn_mstrain_2x_coco/gfl_x101_32x4d_fpn_mstrain_2x_coco_20200630_102002-50c1ffdb.pth'  # noqa: E501
model = dict(
    teacher=dict(cfg_path='mmdet::gfl/gfl_x101-32x4d_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt)
