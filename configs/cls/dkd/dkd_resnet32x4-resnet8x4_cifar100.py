# DKD (Zhao et al., CVPR 2022) on the final logits: alpha*TCKD + beta*NCKD, CE weight 1,
# the distillation terms warmed up linearly over the first 20 epochs
# (weight x min(epoch / 20, 1), kd_mmdet.DistillLossWarmupHook). mdistiller's CIFAR
# settings: alpha 1, beta 8, T 4, 20-epoch warm-up. Published: 72.50 -> 76.32.
_base_ = ['../../_base_/cls_pair_cifar100.py', '../../_base_/distillers/cls_distillers.py']

model = dict(distiller=_base_.dkd_distiller)
custom_hooks = [dict(type='kd_mmdet.DistillLossWarmupHook', warmup_epochs=20)]
