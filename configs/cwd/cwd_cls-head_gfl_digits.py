# CWD on GFL's per-level classification logits (bbox_head.gfl_cls), toy GFL pair.
# The mmrazor 0.x recipe behind the published 41.9 (GFL R101 -> R50): tau=1, weight 5.
_base_ = ['../_base_/pairs/gfl_digits.py']

levels = range(5)  # P3..P7
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # gfl_cls is called once per level: record_idx=i is the i-th call (level i).
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
