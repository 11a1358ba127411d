# ReviewKD on the FPN: RetinaNet R101 2x (38.9) -> RetinaNet R50 1x (36.5).
# Official settings (dvlab-research/ReviewKD Detection/configs/ReviewKD-RT50-RT101.yaml):
# ABF review path over the 5 FPN outputs p3..p7 (256 channels), HCL weight 1.0, no inherit
# initialisation, no gradient clipping; 180k iterations x 8 images at lr 0.005 = mmdet's
# RetinaNet 1x (12 epochs at lr 0.01 x 16 images), kept from the student recipe. They train
# with multi-scale inputs (shorter side 640..800); mmdet's recipe is single-scale.
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', '../_base_/kd_runtime.py',
          '../_base_/distillers/reviewkd_fpn.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'  # noqa: E501
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        _base_.reviewkd_fpn_distiller,
        # five FPN levels: P3..P7
        connectors=dict(review=dict(
            _base_.reviewkd_connector,
            in_channels=[256] * 5,  # level i: student FPN width
            out_channels=256, mid_channels=256))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
