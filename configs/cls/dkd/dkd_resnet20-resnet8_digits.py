# DKD (Zhao et al., CVPR 2022) on the final logits: alpha*TCKD + beta*NCKD, CE weight 1,
# the distillation terms warmed up linearly over the first 5 epochs
# (weight x min(epoch / 5, 1), kd_mmdet.DistillLossWarmupHook). CIFAR settings
# (alpha 1, beta 8, T 4); the warm-up shortened from 20 of 240 epochs to 5 of 15.
_base_ = ['../../_base_/cls_pair_digits.py', '../../_base_/distillers/cls_distillers.py']

model = dict(distiller=_base_.dkd_distiller)
custom_hooks = [dict(type='kd_mmdet.DistillLossWarmupHook', warmup_epochs=5)]
