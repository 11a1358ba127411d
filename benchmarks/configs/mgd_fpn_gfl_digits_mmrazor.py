# Peer of configs/mgd/mgd_fpn_gfl_digits.py for benchmarks/quality.py: the same pair,
# recorders, schedule and hyper-parameters (lambda 0.65, alpha 2e-5 on P3..P7), with
# mmrazor 1.0's MGDConnector and MGDLoss in place of kd_mmdet's.
_base_ = ['../../configs/mgd/mgd_fpn_gfl_digits.py']

levels = range(5)  # P3..P7, as in the base
model = dict(distiller=dict(
    connectors={
        f'mgd{i}': dict(_delete_=True, type='mmrazor.MGDConnector', student_channels=64,
                        teacher_channels=128, lambda_mgd=0.65)
        for i in levels
    },
    distill_losses={
        f'loss_mgd_fpn{i}': dict(_delete_=True, type='mmrazor.MGDLoss', alpha_mgd=2e-5)
        for i in levels
    }))
