# DKD (Zhao et al., CVPR 2022) on the final logits: alpha*TCKD + beta*NCKD, CE weight 1,
# the distillation terms warmed up linearly over the first 1 epochs
# (weight x min(epoch / 1, 1), kd_mmdet.DistillLossWarmupHook). ImageNet settings: alpha 1,
# beta 0.5, T 1; warm-up 1 epoch (recalled from mdistiller's ImageNet config).
# Published: 69.90 -> 71.70.
_base_ = ['../../_base_/cls_pair_in1k.py', '../../_base_/distillers/cls_distillers.py']

model = dict(distiller=dict(_base_.dkd_distiller, distill_losses=dict(
    loss_dkd=dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=0.5, temperature=1.0,
                  loss_weight=1.0))))
custom_hooks = [dict(type='kd_mmdet.DistillLossWarmupHook', warmup_epochs=1)]
