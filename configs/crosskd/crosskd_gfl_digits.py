# CrossKD, toy GFL pair on the digits set (R50, FPN/head 128 -> R18 half width, 64).
# Losses and index of the official GFL config (../_base_/distillers/crosskd.py).
# Teacher first:  python tools/train.py configs/toy/gfl_teacher_digits.py
_base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/crosskd.py']

model = dict(
    type='kd_mmdet.CrossKDDistill',
    distiller=_base_.empty_distiller,
    **_base_.crosskd_gfl_losses,
    **_base_.toy_head_bridge)
