# LD, the whole method (main region + VLR + class KD), toy GFL pair on the digits set.
# Weights of the official GFL configs (HikariTJU/LD): loss_ld 0.25 and loss_ld_vlr 0.25 at
# tau=10, loss_kd 10 at T=2. Teacher first:
#   python tools/train.py configs/toy/gfl_teacher_digits.py
_base_ = ['../_base_/toy_digits_det.py', '../_base_/models/toy_detectors.py',
          '../_base_/distillers/ld_gfl.py']

teacher_ckpt = 'work_dirs/gfl_teacher_digits/epoch_12.pth'
model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=_base_.gfl_student,
    teacher=_base_.gfl_teacher,
    teacher_ckpt=teacher_ckpt,
    # Head outputs have the same shapes in both models (10 classes, reg_max 16): no
    # connector. Logged as distill.loss_ld_main / _vlr / _kd.
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0, loss_weight=0.25,
            vlr_weight=0.25, kd_weight=10.0))))
find_unused_parameters = True
# Evaluates the student, then the teacher (logged as teacher.coco/bbox_mAP).
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
