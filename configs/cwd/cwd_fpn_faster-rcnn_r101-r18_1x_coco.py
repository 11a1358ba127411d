# CWD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x.
# No official config or published number for this pair: the settings of the R50 student
# (mmrazor 1.x's Faster R-CNN recipe: tau=1, weight 10, 5 levels); both FPNs have 256 channels.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r18_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P2..P6
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
