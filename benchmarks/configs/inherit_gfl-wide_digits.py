# The wide toy GFL student (./_base_/gfl_wide_student.py) starting its neck and head from
# the teacher's, with no distillation loss: what the inherit initialisation alone gives.
_base_ = ['../../configs/_base_/pairs/gfl_digits.py', './_base_/gfl_wide_student.py']
model = dict(
    architecture=_base_.wide_student,
    inherit_from_teacher=('neck', 'bbox_head'),
    distiller=dict(type='kd_mmdet.ConfigurableDistiller', distill_losses=dict(),
                   loss_forward_mappings=dict()))
