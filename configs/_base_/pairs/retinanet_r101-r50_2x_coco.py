# COCO pair: RetinaNet R101 2x (38.9) teaches RetinaNet R50 2x (37.4).
# Every distillation config of this pair inherits this file and adds its distiller; the
# teacher checkpoint is the mmdet model zoo's, downloaded when training starts.
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../kd_runtime.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'  # noqa: E501
model = dict(
    _delete_=True,  # the student detector of the base becomes the distiller's architecture
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt)
# Evaluates the student, then the teacher (logged as teacher.coco/bbox_mAP).
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
