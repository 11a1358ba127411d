# LD (main + VLR + class KD): GFL R101 ms-2x (44.7) -> GFL R50 1x (40.1 -> 42.1 in the LD
# README). Official weights (HikariTJU/LD GFL configs): loss_ld 0.25 and loss_ld_vlr 0.25
# at tau=10, loss_kd 10 at T=2; feature imitation is off here (LDHeadLoss im_weight=2 with
# feats_S/feats_T mapped from neck recorders turns it on).
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/ld_gfl.py']

model = dict(
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0, loss_weight=0.25,
            vlr_weight=0.25, kd_weight=10.0))))
