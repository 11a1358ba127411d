# COCO pair: GFL R101 ms-2x (44.7) teaches GFL R50 1x (40.2); the student's recipe is mmdet's.
# Every distillation config of this pair inherits this file and adds its distiller; the
# teacher checkpoint is the mmdet model zoo's, downloaded when training starts.
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py', '../kd_runtime.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'  # noqa: E501
model = dict(
    _delete_=True,  # the student detector of the base becomes the distiller's architecture
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::gfl/gfl_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt)
# Evaluates the student, then the teacher (logged as teacher.coco/bbox_mAP).
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
