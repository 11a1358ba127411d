# CWD on GFL's per-level classification logits (bbox_head.gfl_cls), toy GFL pair.
# The mmrazor 0.x recipe behind the published 41.9 (GFL R101 -> R50): tau=1, weight 5.
_base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/cwd.py']

# five levels: P3..P7
model = dict(distiller=_base_.cwd_cls_head_distiller)
