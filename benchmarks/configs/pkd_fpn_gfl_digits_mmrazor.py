# Peer of configs/pkd/pkd_fpn_gfl_digits.py for benchmarks/quality.py: the same pair,
# recorders, connectors, schedule, levels and weight (6 on P3..P5), with mmrazor 1.0's
# PKDLoss in place of kd_mmdet's.
_base_ = ['../../configs/pkd/pkd_fpn_gfl_digits.py']

levels = range(3)  # P3..P5, as in the base
model = dict(distiller=dict(
    distill_losses={
        f'loss_pkd_fpn{i}': dict(_delete_=True, type='mmrazor.PKDLoss', loss_weight=6.0)
        for i in levels
    }))
