# OFA (Hao et al., NeurIPS 2023): the target-enhanced loss (eps=1.0, T=1) on the final
# logits and on a training-only branch per student stage but the last (stages 0, 1)
# (kd_mmdet.OFABranch: stride-2 separable convs to the last stage's resolution, pool,
# linear), every one against the teacher's final logits; CE weight 1. CIFAR settings.
_base_ = ['../../_base_/cls_pair_digits.py', '../../_base_/distillers/cls_distillers.py']

stages = (0, 1)
ofa = dict(_base_.ofa_loss)
model = dict(
    distiller=dict(
        _base_.ofa_distiller,
        student_recorders=dict(_base_.ofa_distiller.student_recorders,
                               **{f'stage{i}': _base_.ofa_stage_recorders[i] for i in stages}),
        connectors={f'branch{i}': dict(type='kd_mmdet.OFABranch',
                                       in_channels=_base_.student_channels[i],
                                       out_channels=64, num_classes=_base_.num_classes,
                                       num_downsample=len(_base_.student_channels) - 1 - i)
                    for i in stages},
        distill_losses=dict(loss_ofa_logits=ofa, **{f'loss_ofa_stage{i}': ofa for i in stages}),
        loss_forward_mappings=dict(
            _base_.ofa_distiller.loss_forward_mappings,
            **{f'loss_ofa_stage{i}': _base_.ofa_stage_mappings[i] for i in stages})))
