# FGD's official recipe on the toy GFL pair: the wide student (./_base_/gfl_wide_student.py)
# starts its neck and head from the teacher's (init_student=True in yzd-v/FGD's configs),
# then imitates the teacher's FPN outputs at the toy config's weights.
_base_ = ['./fgd_fpn_gfl-wide_digits.py']
model = dict(inherit_from_teacher=('neck', 'bbox_head'))
