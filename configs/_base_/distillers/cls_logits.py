# Logit distillers of the classification configs (configs/cls/): recorders and mappings
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
