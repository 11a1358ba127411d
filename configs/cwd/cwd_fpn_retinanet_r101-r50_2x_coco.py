# CWD on the FPN: RetinaNet R101 2x (38.9) -> RetinaNet R50 2x (37.4).
# tau=1, weight 5 per level, 5 levels (mmdetection-distiller RetinaNet settings).
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', '../_base_/kd_runtime.py',
          '../_base_/distillers/cwd.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'  # noqa: E501
# five levels: P3..P7
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=_base_.cwd_fpn_distiller)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
