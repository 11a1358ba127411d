# KD (Hinton et al. 2015) on the final logits, ImageNet settings: T=1, CE 0.5,
# KD 0.5. Published (DKD paper's table): 69.90 -> 71.03.
_base_ = ['../../_base_/cls_pair_in1k.py', '../../_base_/distillers/cls_distillers.py']

model = dict(
    architecture=dict(head=dict(loss=dict(loss_weight=0.5))),
    distiller=dict(_base_.kd_distiller, distill_losses=dict(
        loss_kd=dict(type='kd_mmdet.KDLoss', temperature=1.0, loss_weight=0.5))))
