# ReviewKD on the FPN: RetinaNet R101 2x (38.9) -> RetinaNet R50 1x (36.5).
# Official settings (dvlab-research/ReviewKD Detection/configs/ReviewKD-RT50-RT101.yaml):
# ABF review path over the 5 FPN outputs p3..p7 (256 channels), HCL weight 1.0, no inherit
# initialisation, no gradient clipping; 180k iterations x 8 images at lr 0.005 = mmdet's
# RetinaNet 1x (12 epochs at lr 0.01 x 16 images), kept from the student recipe. They train
# with multi-scale inputs (shorter side 640..800); mmdet's recipe is single-scale.
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', '../_base_/kd_runtime.py']

num_levels = 5  # P3..P7
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'  # noqa: E501
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of maps; without data_idx the whole tuple is used.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # One review path over all levels (each level fuses the deeper ones).
        connectors=dict(review=dict(
            type='kd_mmdet.ReviewKDConnector',
            in_channels=[256 for _ in range(num_levels)],  # level i: student FPN width
            out_channels=256, mid_channels=256)),
        distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)),
        loss_forward_mappings=dict(loss_reviewkd=dict(
            # no data_idx: the whole tuple of levels, shallow to deep
            preds_S=dict(from_student=True, recorder='fpn', connector='review'),
            preds_T=dict(from_student=False, recorder='fpn')))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
