# Distillers of the classification configs (configs/cls/): recorders and mappings
# shared by every pair; each leaf config sets the hyper-parameters of its pair.
#   fc: head.fc outputs, the logits (N, num_classes), student and teacher;
#   gt: head.loss_module inputs; its call is loss_module(cls_score, target, ...), so
#       data_idx=1 is the label tensor.
_fc = dict(fc=dict(type='ModuleOutputs', source='head.fc'))
kd_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=_fc,
    teacher_recorders=_fc,
    # CIFAR settings (T 4, KD 0.9 with CE 0.1); ImageNet leaves override them.
    distill_losses=dict(
        loss_kd=dict(type='kd_mmdet.KDLoss', temperature=4.0, loss_weight=0.9)),
    loss_forward_mappings=dict(
        loss_kd=dict(preds_S=dict(from_student=True, recorder='fc'),
                     preds_T=dict(from_student=False, recorder='fc'))))
dkd_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(_fc, gt=dict(type='ModuleInputs', source='head.loss_module')),
    teacher_recorders=_fc,
    # CIFAR settings (alpha 1, beta 8, T 4); ImageNet leaves override them.
    distill_losses=dict(
        loss_dkd=dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=8.0, temperature=4.0,
                      loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_dkd=dict(preds_S=dict(from_student=True, recorder='fc'),
                      preds_T=dict(from_student=False, recorder='fc'),
                      gt_labels=dict(from_student=True, recorder='gt', data_idx=1))))

# OFA (Hao et al., NeurIPS 2023): the target-enhanced loss on the final logits and on a
# training-only branch per chosen student stage, each against the teacher's final logits.
# A leaf adds per stage i: student recorder ofa_stage_recorders[i], connector
# branch{i} (kd_mmdet.OFABranch, pair widths), loss loss_ofa_stage{i} (its eps) and mapping
# ofa_stage_mappings[i]; the loss settings of the leaf's pair go in loss_ofa_logits too.
_gt = dict(gt=dict(type='ModuleInputs', source='head.loss_module'))
_ofa_targets = dict(preds_T=dict(from_student=False, recorder='fc'),
                    gt_labels=dict(from_student=True, recorder='gt', data_idx=1))
ofa_loss = dict(type='kd_mmdet.OFALoss', eps=1.0, temperature=1.0, loss_weight=1.0)
# backbone.layer{i+1} is stage i (mmpretrain ResNet and kd_mmdet.CifarResNet alike).
ofa_stage_recorders = [dict(type='ModuleOutputs', source=f'backbone.layer{i + 1}')
                       for i in range(4)]
ofa_stage_mappings = [dict(preds_S=dict(from_student=True, recorder=f'stage{i}',
                                        connector=f'branch{i}'), **_ofa_targets)
                      for i in range(4)]
ofa_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(_fc, **_gt),
    teacher_recorders=_fc,
    distill_losses=dict(loss_ofa_logits=ofa_loss),
    loss_forward_mappings=dict(
        loss_ofa_logits=dict(preds_S=dict(from_student=True, recorder='fc'),
                             **_ofa_targets)))

# Projector recipe (Miles & Mikolajczyk, AAAI 2024): pooled last-stage features; student ->
# linear projector to the teacher's width -> BatchNorm without affine, teacher -> BatchNorm
# without affine; LogSum distance (alpha 4, weight 2 as in the authors' code) plus KD on the
# logits (T=1, weight 1) plus CE (weight 1). A leaf sets the connectors' widths:
#   proj_S=dict(projector_S, in_channels=<student width>, out_channels=<teacher width>),
#   bn_T=dict(projector_T, out_channels=<teacher width>).
# head.fc(pre_logits): data_idx=0 of its inputs is the pooled feature (N, C).
_feat = dict(feat=dict(type='ModuleInputs', source='head.fc'))
projector_S = dict(type='kd_mmdet.ProjectorBN')
projector_T = dict(type='kd_mmdet.ProjectorBN')
projector_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(_feat, **_fc),
    teacher_recorders=dict(_feat, **_fc),
    distill_losses=dict(
        loss_logsum=dict(type='kd_mmdet.LogSumLoss', alpha=4.0, loss_weight=2.0),
        loss_kd=dict(type='kd_mmdet.KDLoss', temperature=1.0, loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_logsum=dict(
            preds_S=dict(from_student=True, recorder='feat', data_idx=0, connector='proj_S'),
            preds_T=dict(from_student=False, recorder='feat', data_idx=0, connector='bn_T')),
        loss_kd=dict(preds_S=dict(from_student=True, recorder='fc'),
                     preds_T=dict(from_student=False, recorder='fc'))))
