# Peer of configs/cwd/cwd_fpn_gfl_digits.py for benchmarks/quality.py: the same pair,
# recorders, connectors, schedule and hyper-parameters (tau 1, weight 5 on P3..P7), with
# mmrazor 1.0's ChannelWiseDivergence in place of kd_mmdet.CWDLoss.
_base_ = ['../../configs/cwd/cwd_fpn_gfl_digits.py']

model = dict(distiller=dict(distill_losses={
    f'loss_cwd_fpn{i}': dict(_delete_=True, type='mmrazor.ChannelWiseDivergence', tau=1.0,
                             loss_weight=5.0)
    for i in range(5)  # P3..P7, as in the base
}))
