# The teacher scripts/demo.sh distils from: GFL with the toy student's backbone (ResNet-18,
# 32 base channels) pretrained as a digit classifier, under the toy teacher's FPN and head
# (128 channels, 4 stacked convs). scripts/demo_teacher.sh trains it (pretraining on digit
# crops, then 2 epochs on 2,560 images) and writes demo/gfl_teacher-r18_digits.pth.
#
# Why not the toy ResNet-50 teacher: from scratch on the demo's 512 images it needs twice
# the student's epochs at about four times its step cost to lead it, which on a CPU is
# most of the demo's time; this teacher is stronger and is trained once.
_base_ = ['../configs/toy/gfl_teacher_digits.py']
model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,
        # mmdet's recipe for an ImageNet-pretrained backbone; the checkpoint is the
        # classifier scripts/demo_teacher.sh pretrains (model.backbone.init_cfg.checkpoint).
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(_delete_=True, type='Pretrained', prefix='backbone.', checkpoint='')),
    neck=dict(in_channels=[32, 64, 128, 256]))
