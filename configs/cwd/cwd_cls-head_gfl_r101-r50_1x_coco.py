# CWD on GFL's per-level classification logits (bbox_head.gfl_cls):
# GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2); published 41.9 with this recipe
# (mmrazor 0.x `cwd_cls_head_gfl_r101_fpn_gfl_r50_fpn_1x_coco`: tau=1, weight 5 per level).
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py']

levels = range(5)  # P3..P7
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # gfl_cls runs once per level: record_idx=i is its i-th call, i.e. level i.
        student_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.gfl_cls')),
        teacher_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.gfl_cls')),
        distill_losses={
            f'loss_cwd_cls{i}': dict(type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=5.0)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_cwd_cls{i}': dict(
                preds_S=dict(from_student=True, recorder='cls', record_idx=i),
                preds_T=dict(from_student=False, recorder='cls', record_idx=i))
            for i in levels
        }))
