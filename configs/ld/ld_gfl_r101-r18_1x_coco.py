# LD (main + VLR + class KD): GFL R101 ms-2x (44.7) -> GFL R18 1x (35.8 -> 36.5 with LD main,
# LD README). Same weights as the R50 student; both heads see 80 classes and reg_max 16.
_base_ = ['../students/gfl_r18_fpn_1x_coco.py', '../_base_/distillers/ld_gfl.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'  # noqa: E501
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=_base_.model,  # the student config this file inherits
    teacher=dict(cfg_path='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0, loss_weight=0.25,
            vlr_weight=0.25, kd_weight=10.0))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
