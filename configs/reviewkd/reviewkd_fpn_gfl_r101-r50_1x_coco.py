# ReviewKD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2). No published ReviewKD
# result for GFL: the settings of the official one-stage config (dvlab-research/ReviewKD
# Detection/configs/ReviewKD-RT50-RT101.yaml) — ABF review path over the 5 FPN outputs
# (256 channels), HCL weight 1.0, no inherit initialisation, no clipping — on GFL's 1x recipe.
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/reviewkd_fpn.py']

# five FPN levels: P3..P7
model = dict(distiller=dict(
    _base_.reviewkd_fpn_distiller,
    connectors=dict(review=dict(
        _base_.reviewkd_connector,
        in_channels=[256] * 5,  # level i: student FPN width
        out_channels=256, mid_channels=256))))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
