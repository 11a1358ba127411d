# Projector recipe (Miles & Mikolajczyk, AAAI 2024): pooled last-stage features; student
# -> linear projector to the teacher's width -> BatchNorm without affine, teacher ->
# BatchNorm without affine; LogSum distance (alpha 4, weight 2 as in the authors' code)
# plus KD on the logits (T=1, weight 1) plus CE (weight 1). Toy pair.
_base_ = ['../../_base_/cls_pair_digits.py']

model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # head.fc(pre_logits): data_idx=0 of its inputs is the pooled feature (N, C).
        student_recorders=dict(feat=dict(type='ModuleInputs', source='head.fc'),
                               fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(feat=dict(type='ModuleInputs', source='head.fc'),
                               fc=dict(type='ModuleOutputs', source='head.fc')),
        connectors=dict(
            proj_S=dict(type='kd_mmdet.ProjectorBN', in_channels=_base_.student_channels[-1],
                        out_channels=_base_.teacher_channels[-1]),
            bn_T=dict(type='kd_mmdet.ProjectorBN', out_channels=_base_.teacher_channels[-1])),
        distill_losses=dict(
            loss_logsum=dict(type='kd_mmdet.LogSumLoss', alpha=4.0, loss_weight=2.0),
            loss_kd=dict(type='kd_mmdet.KDLoss', temperature=1.0, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_logsum=dict(
                preds_S=dict(from_student=True, recorder='feat', data_idx=0,
                             connector='proj_S'),
                preds_T=dict(from_student=False, recorder='feat', data_idx=0,
                             connector='bn_T')),
            loss_kd=dict(preds_S=dict(from_student=True, recorder='fc'),
                         preds_T=dict(from_student=False, recorder='fc')))))
