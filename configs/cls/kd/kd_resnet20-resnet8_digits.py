# KD (Hinton et al. 2015) on the final logits, CIFAR settings (T=4, CE 0.1, KD 0.9).
_base_ = ['../../_base_/cls_pair_digits.py', '../../_base_/distillers/cls_distillers.py']

model = dict(architecture=dict(head=dict(loss=dict(loss_weight=0.1))),
             distiller=_base_.kd_distiller)
