# Peer of configs/cls/kd/kd_resnet20-resnet8_digits.py for benchmarks/quality.py: the same
# pair, schedule and hyper-parameters (T 4, weight 0.9, batch mean), with mmrazor 1.0's
# KLDivergence in place of kd_mmdet.KDLoss.
_base_ = ['../../configs/cls/kd/kd_resnet20-resnet8_digits.py']

model = dict(distiller=dict(distill_losses=dict(
    loss_kd=dict(_delete_=True, type='mmrazor.KLDivergence', tau=4.0, loss_weight=0.9,
                 reduction='batchmean'))))
