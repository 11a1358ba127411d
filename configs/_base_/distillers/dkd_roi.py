# Recorders and loss mapping of DKD on Faster R-CNN RoI logits (kd_mmdet.RoIHeadDistill runs
# the teacher's RoI head on the student's sampled RoIs, so both logits rows match).
#   logits:  roi_head.bbox_head outputs, data_idx 0 = class logits (R, num_classes + 1);
#   targets: outputs of the student's BBoxHead.get_targets (mmdet 3.3), data_idx 0 = the
#            sampled RoIs' labels, background = num_classes.
dkd_roi_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(
        logits=dict(type='ModuleOutputs', source='roi_head.bbox_head'),
        targets=dict(type='MethodOutputs',
                     source='mmdet.models.roi_heads.bbox_heads.bbox_head.BBoxHead.get_targets')),
    teacher_recorders=dict(logits=dict(type='ModuleOutputs', source='roi_head.bbox_head')),
    loss_forward_mappings=dict(
        loss_dkd=dict(
            preds_S=dict(from_student=True, recorder='logits', data_idx=0),
            preds_T=dict(from_student=False, recorder='logits', data_idx=0),
            gt_labels=dict(from_student=True, recorder='targets', data_idx=0))))
# DKD for detection (Zhao et al., CVPR 2022, and its official detectron2 code): alpha 1,
# beta 0.25, T 1; TCKD and NCKD logged separately (distill.loss_dkd_tckd / _nckd).
dkd_roi_loss = dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=0.25, temperature=1.0,
                    loss_weight=1.0, return_terms=True)
