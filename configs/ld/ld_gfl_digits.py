# LD, the whole method (main region + VLR + class KD), toy GFL pair on the digits set.
# Weights of the official GFL configs (HikariTJU/LD): loss_ld 0.25 and loss_ld_vlr 0.25 at
# tau=10, loss_kd 10 at T=2. Teacher first:
_base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/ld_gfl.py']

model = dict(
    # Head outputs have the same shapes in both models (10 classes, reg_max 16): no
    # connector. Logged as distill.loss_ld_main / _vlr / _kd.
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0, loss_weight=0.25,
            vlr_weight=0.25, kd_weight=10.0))))
