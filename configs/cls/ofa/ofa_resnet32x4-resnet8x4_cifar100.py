# OFA (Hao et al., NeurIPS 2023): the target-enhanced loss (eps=1.0, T=1) on the final
# logits and on a training-only branch per student stage but the last (stages 0, 1)
# (kd_mmdet.OFABranch: stride-2 separable convs to the last stage's resolution, pool,
# linear), every one against the teacher's final logits; CE weight 1. Official CIFAR
# settings (eps 1); the paper reports CIFAR-100 only for heterogeneous pairs, so no
# published number for this pair.
_base_ = ['../../_base_/cls_pair_cifar100.py']

stages = (0, 1)
branches = {f'branch{i}': dict(type='kd_mmdet.OFABranch',
                               in_channels=_base_.student_channels[i],
                               out_channels=256, num_classes=_base_.num_classes,
                               num_downsample=len(_base_.student_channels) - 1 - i)
            for i in stages}
ofa = dict(type='kd_mmdet.OFALoss', eps=1.0, temperature=1.0, loss_weight=1.0)


def _mapping(preds_S):
    return dict(preds_S=preds_S, preds_T=dict(from_student=False, recorder='fc'),
                # head.loss_module(cls_score, target, ...): data_idx=1 is the label tensor.
                gt_labels=dict(from_student=True, recorder='gt', data_idx=1))


model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc'),
            gt=dict(type='ModuleInputs', source='head.loss_module'),
            # backbone.layer{i+1} is stage i.
            **{f'stage{i}': dict(type='ModuleOutputs', source=f'backbone.layer{i + 1}')
               for i in stages}),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        connectors=branches,
        distill_losses=dict(loss_ofa_logits=ofa, **{f'loss_ofa_stage{i}': ofa for i in stages}),
        loss_forward_mappings=dict(
            loss_ofa_logits=_mapping(dict(from_student=True, recorder='fc')),
            **{f'loss_ofa_stage{i}': _mapping(dict(from_student=True, recorder=f'stage{i}',
                                                   connector=f'branch{i}'))
               for i in stages})))
