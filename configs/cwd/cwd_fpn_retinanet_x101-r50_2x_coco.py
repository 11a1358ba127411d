# CWD on the FPN: RetinaNet X101-64x4d (41.0) -> RetinaNet R50 2x (37.4); published 40.5
# (mmdetection-distiller: tau=1, weight 5 per level, 5 levels).
_base_ = ['../_base_/pairs/retinanet_x101-r50_2x_coco.py', '../_base_/distillers/cwd.py']

# five levels: P3..P7
model = dict(distiller=_base_.cwd_fpn_distiller)
