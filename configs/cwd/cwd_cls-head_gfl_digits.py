# CWD on GFL's per-level classification logits (bbox_head.gfl_cls), toy GFL pair.
# The mmrazor 0.x recipe behind the published 41.9 (GFL R101 -> R50): tau=1, weight 5.
# Teacher first:  python tools/train.py configs/toy/gfl_teacher_digits.py
_base_ = ['../_base_/toy_digits_det.py', '../_base_/models/toy_detectors.py']

levels = range(5)  # P3..P7
teacher_ckpt = 'work_dirs/gfl_teacher_digits/epoch_12.pth'
model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=_base_.gfl_student,
    teacher=_base_.gfl_teacher,
    teacher_ckpt=teacher_ckpt,
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
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
