# CrossKD, toy RetinaNet pair on the digits set (R50, FPN/head 128 -> R18 half width, 64;
# GroupNorm in both heads' stacked convs). Losses and index of the official RetinaNet
# config (../_base_/distillers/crosskd.py).
# Teacher first:  python tools/train.py configs/toy/retinanet_teacher_digits.py
_base_ = ['../_base_/pairs/retinanet_digits.py', '../_base_/distillers/crosskd.py']

model = dict(
    type='kd_mmdet.CrossKDDistill',
    distiller=_base_.empty_distiller,
    **_base_.crosskd_retinanet_losses,
    **_base_.toy_head_bridge)
