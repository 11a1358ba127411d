# PKD on the FPN, toy Faster R-CNN pair on the digits set (R50, FPN 128 -> R18 half width, 64).
# Levels and weight of mmrazor's Faster R-CNN recipe (neck outputs 0..3, weight 6).
# Teacher first:  python tools/train.py configs/toy/faster-rcnn_teacher_digits.py
_base_ = ['../_base_/pairs/faster-rcnn_digits.py', '../_base_/distillers/pkd_fpn.py']

levels = range(4)  # neck outputs 0..3
model = dict(
    distiller=dict(
        _base_.pkd_fpn_distiller,
        # Student FPN has 64 channels, the teacher's 128: a 1x1 conv per level.
        connectors={f'fpn{i}': _base_.toy_fpn_connectors[f'fpn{i}'] for i in levels},
        distill_losses={f'loss_pkd_fpn{i}': dict(_base_.pkd_loss, loss_weight=6.0)
                        for i in levels},
        loss_forward_mappings={f'loss_pkd_fpn{i}': _base_.pkd_level_mappings_connected[i]
                               for i in levels}))
