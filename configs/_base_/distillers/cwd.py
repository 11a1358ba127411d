# CWD (Shu et al., "Channel-wise Knowledge Distillation for Dense Prediction", ICCV 2021):
# one kd_mmdet.CWDLoss per level, tau 1, weight 5 (mmdetection-distiller's RetinaNet recipe
# and mmrazor 0.x's GFL class-logit recipe, behind the published 40.5 and 41.9); mmrazor
# 1.x's FPN recipes use 10 (their leaves set it).
#   cwd_fpn_distiller: on the neck's five outputs (one tuple of maps; data_idx=i picks
#       level i), for FPNs of equal width; a narrower student adds a connector per level
#       and names it in its mappings. A leaf on fewer levels sets
#       distill_losses={f'loss_cwd_fpn{i}': cwd_loss ...} and
#       loss_forward_mappings={f'loss_cwd_fpn{i}': cwd_fpn_mappings[i] ...}.
#   cwd_cls_head_distiller: on GFL's classification logits; bbox_head.gfl_cls runs once
#       per level, so record_idx=i is its i-th call, i.e. level i.
cwd_loss = dict(type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=5.0)
_neck = dict(fpn=dict(type='ModuleOutputs', source='neck'))
cwd_fpn_mappings = [
    dict(preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
         preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
    for i in range(5)]
cwd_fpn_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=_neck,
    teacher_recorders=_neck,
    distill_losses={f'loss_cwd_fpn{i}': cwd_loss for i in range(5)},
    loss_forward_mappings={f'loss_cwd_fpn{i}': cwd_fpn_mappings[i] for i in range(5)})
_gfl_cls = dict(cls=dict(type='ModuleOutputs', source='bbox_head.gfl_cls'))
cwd_cls_head_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=_gfl_cls,
    teacher_recorders=_gfl_cls,
    distill_losses={f'loss_cwd_cls{i}': cwd_loss for i in range(5)},
    loss_forward_mappings={
        f'loss_cwd_cls{i}': dict(
            preds_S=dict(from_student=True, recorder='cls', record_idx=i),
            preds_T=dict(from_student=False, recorder='cls', record_idx=i))
        for i in range(5)})
