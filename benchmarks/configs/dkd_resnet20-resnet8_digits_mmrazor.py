# Peer of configs/cls/dkd/dkd_resnet20-resnet8_digits.py for benchmarks/quality.py: the same
# pair, schedule, warm-up and hyper-parameters (alpha 1, beta 8, T 4, batch mean), with
# mmrazor 1.0's DKDLoss in place of kd_mmdet.DKDLoss.
_base_ = ['../../configs/cls/dkd/dkd_resnet20-resnet8_digits.py']

model = dict(distiller=dict(distill_losses=dict(
    loss_dkd=dict(_delete_=True, type='mmrazor.DKDLoss', tau=4.0, alpha=1.0, beta=8.0,
                  reduction='batchmean', loss_weight=1.0))))
