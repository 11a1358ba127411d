# CWD on the FPN: GFL R101 ms-2x (44.7) -> GFL R18 1x. Same settings as the R50 student.
# Both FPNs have 256 channels: no connector.
_base_ = ['../_base_/pairs/gfl_r101-r18_1x_coco.py', '../_base_/distillers/cwd.py']

# five levels: P3..P7
model = dict(distiller=_base_.cwd_fpn_distiller)
