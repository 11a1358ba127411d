# Recorders and loss mapping shared by every LD config here (kd_mmdet.LDHeadLoss).
# `ld_loss` is the loss dict; the leaf config sets its weights.
#   head:    GFLHead.forward outputs: data_idx 0 = class logits, 1 = edge distributions
#            (lists over the FPN levels), for student and teacher alike;
#   targets: outputs of the student's GFLHead.get_targets (mmdet 3.3): 0 = anchors,
#            1 = labels per level — the student's own ATSS assignment, not redone;
#   gt:      inputs of unpack_gt_instances: 0 = the batch's data samples (GT boxes).
ld_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(
        head=dict(type='ModuleOutputs', source='bbox_head'),
        targets=dict(type='MethodOutputs',
                     source='mmdet.models.dense_heads.gfl_head.GFLHead.get_targets'),
        gt=dict(type='FunctionInputs',
                source='mmdet.models.dense_heads.base_dense_head.unpack_gt_instances')),
    teacher_recorders=dict(head=dict(type='ModuleOutputs', source='bbox_head')),
    loss_forward_mappings=dict(
        loss_ld=dict(
            cls_scores_S=dict(from_student=True, recorder='head', data_idx=0),
            bbox_preds_S=dict(from_student=True, recorder='head', data_idx=1),
            cls_scores_T=dict(from_student=False, recorder='head', data_idx=0),
            bbox_preds_T=dict(from_student=False, recorder='head', data_idx=1),
            anchors=dict(from_student=True, recorder='targets', data_idx=0),
            labels=dict(from_student=True, recorder='targets', data_idx=1),
            data_samples=dict(from_student=True, recorder='gt', data_idx=0))))
