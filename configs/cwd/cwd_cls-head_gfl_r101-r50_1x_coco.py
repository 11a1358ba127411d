# CWD on GFL's per-level classification logits (bbox_head.gfl_cls):
# GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2); published 41.9 with this recipe
# (mmrazor 0.x `cwd_cls_head_gfl_r101_fpn_gfl_r50_fpn_1x_coco`: tau=1, weight 5 per level).
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/cwd.py']

# five levels: P3..P7
model = dict(distiller=_base_.cwd_cls_head_distiller)

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
