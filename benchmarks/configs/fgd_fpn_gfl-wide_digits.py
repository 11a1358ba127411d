# FGD at the toy config's weights (configs/fgd/fgd_fpn_gfl_digits.py) on the wide toy GFL
# student (./_base_/gfl_wide_student.py), without the inherit initialisation: FGD on a
# student whose FPN is as wide as the teacher's (its align layer is then a 128 -> 128 1x1).
_base_ = ['../../configs/fgd/fgd_fpn_gfl_digits.py', './_base_/gfl_wide_student.py']
model = dict(
    architecture=_base_.wide_student,
    distiller=dict(distill_losses={f'loss_fgd_fpn{i}': dict(student_channels=128)
                                   for i in range(5)}))
