# LD (main + VLR + class KD): GFL R101 ms-2x (44.7) -> GFL R18 1x (35.8 -> 36.5 with LD main,
# LD README). Same weights as the R50 student; both heads see 80 classes and reg_max 16.
_base_ = ['../_base_/pairs/gfl_r101-r18_1x_coco.py', '../_base_/distillers/ld_gfl.py']

model = dict(
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0, loss_weight=0.25,
            vlr_weight=0.25, kd_weight=10.0))))
