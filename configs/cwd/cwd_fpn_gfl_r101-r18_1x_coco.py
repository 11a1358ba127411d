# CWD on the FPN: GFL R101 ms-2x (44.7) -> GFL R18 1x. No official config or published
# number for this pair: the settings of cwd_fpn_gfl_r101-r50_1x_coco.py (mmrazor 1.x's GFL
# FPN recipe: tau=1, weight 10, all 5 levels). Both FPNs have 256 channels: no connector.
_base_ = ['../_base_/pairs/gfl_r101-r18_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P3..P7
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
