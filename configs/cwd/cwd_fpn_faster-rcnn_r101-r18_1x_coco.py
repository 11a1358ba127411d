# CWD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x.
# Same settings as the R50 student; both FPNs have 256 channels.
_base_ = ['../students/faster-rcnn_r18_fpn_1x_coco.py']  # includes ../_base_/kd_runtime.py

levels = range(5)  # P2..P6
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth'  # noqa: E501
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=_base_.model,  # the student config this file inherits
    teacher=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of maps: data_idx=i picks level i.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_cwd_fpn{i}': dict(type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=10.0)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in levels
        }))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
