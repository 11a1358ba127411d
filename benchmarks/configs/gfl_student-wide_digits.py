# The toy GFL student with the teacher's neck and head widths, alone: the baseline of the
# inherit diagnosis of FGD (benchmarks/quality.py, pair gfl_wide; docs/benchmarks.md).
_base_ = ['../../configs/toy/gfl_student_digits.py', './_base_/gfl_wide_student.py']
model = _base_.wide_student
