# LD (main + VLR + class KD): GFL R101 ms-2x (44.7) -> GFL R50 1x (40.1 -> 42.1 in the LD
# README). Official weights (HikariTJU/LD GFL configs): loss_ld 0.25 and loss_ld_vlr 0.25
# at tau=10, loss_kd 10 at T=2; feature imitation is off here (LDHeadLoss im_weight=2 with
# feats_S/feats_T mapped from neck recorders turns it on).
_base_ = ['mmdet::gfl/gfl_r50_fpn_1x_coco.py', '../_base_/kd_runtime.py',
          '../_base_/distillers/ld_gfl.py']

teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'  # noqa: E501
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(cfg_path='mmdet::gfl/gfl_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(cfg_path='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0, loss_weight=0.25,
            vlr_weight=0.25, kd_weight=10.0))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
