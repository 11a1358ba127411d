# CWD on the five FPN outputs (configs/cwd/cwd_fpn_gfl_digits.py) from the demo's teacher,
# demo/gfl_teacher-r18_digits.py: the toy teacher's FPN and head (128 channels) on a
# pretrained ResNet-18 at 32 base channels. Its weights are demo/gfl_teacher-r18_digits.pth
# (scripts/demo_teacher.sh); the student is the toy GFL student, from scratch.
_base_ = ['../configs/cwd/cwd_fpn_gfl_digits.py']
model = dict(
    teacher=dict(backbone=dict(depth=18, base_channels=32, frozen_stages=1, norm_eval=True),
                 neck=dict(in_channels=[32, 64, 128, 256])),
    teacher_ckpt='demo/gfl_teacher-r18_digits.pth')
