# LD on the main region only (what mmdet 3.3's LDHead does), toy GFL pair: loss_ld 0.25 at
# tau=10, no VLR, no class KD. Compare with ld_gfl_digits.py and ld-mmdet_gfl_digits.py.
_base_ = ['./ld_gfl_digits.py']
model = dict(distiller=dict(distill_losses=dict(
    loss_ld=dict(vlr_weight=0.0, kd_weight=0.0))))
