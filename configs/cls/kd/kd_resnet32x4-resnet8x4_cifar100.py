# KD (Hinton et al. 2015) on the final logits, CIFAR-100 settings of the
# DKD/mdistiller baselines: T=4, CE 0.1, KD 0.9. Published: 72.50 -> 73.33.
_base_ = ['../../_base_/cls_pair_cifar100.py', '../../_base_/distillers/cls_distillers.py']

model = dict(architecture=dict(head=dict(loss=dict(loss_weight=0.1))),
             distiller=_base_.kd_distiller)
