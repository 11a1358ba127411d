# ReviewKD on the FPN: RetinaNet R101 ms-3x (41.0) -> RetinaNet R50 1x (36.5). No published
# RetinaNet number found in the official README or configs (unverified).
# Official recipe (dvlab-research/ReviewKD Detection/configs/ReviewKD-RT50-RT101.yaml):
# ABF review path over the 5 FPN outputs p3..p7 (256 channels), HCL weight 1.0, no inherit
# initialisation, no gradient clipping; 180k iterations x 8 images at lr 0.005 = mmdet's
# RetinaNet 1x (12 epochs at lr 0.01 x 16 images), kept from the student recipe;
# multi-scale training, shorter side one of 640..800 (configs/_base_/detectron2_distill.py).
# Deviation: their teacher is detectron2's RetinaNet R101 3x; here mmdet's R101 trained the
# same way (3x, 640-800), 41.0.
_base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', '../_base_/kd_runtime.py',
          '../_base_/distillers/reviewkd_fpn.py', '../_base_/detectron2_distill.py']

teacher_ckpt = _base_.d2_retinanet_teacher_ckpt
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', pretrained=False),
    teacher=_base_.d2_retinanet_teacher,
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        _base_.reviewkd_fpn_distiller,
        # five FPN levels: P3..P7
        connectors=dict(review=dict(
            _base_.reviewkd_connector,
            in_channels=[256] * 5,  # level i: student FPN width
            out_channels=256, mid_channels=256))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
train_dataloader = dict(dataset=dict(pipeline=_base_.d2_train_pipeline))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
