# mmdet 3.3's own LD on the toy GFL pair, as the reference implementation to compare with:
# KnowledgeDistillationSingleStageDetector + LDHead (main region only, loss_ld 0.25, T=10).
# The teacher comes from its own config file + checkpoint; mmdet loads it non-strictly.
# mmdet's LDHead default names 'LocalizationDistillationLoss', which no longer exists in
# mmdet 3.3: the loss is spelled out here.
_base_ = ['../_base_/toy_digits_det.py', '../_base_/models/toy_detectors.py']

_student = _base_.gfl_student
model = dict(
    _student,
    type='KnowledgeDistillationSingleStageDetector',
    teacher_config='{{fileDirname}}/../toy/gfl_teacher_digits.py',
    teacher_ckpt='work_dirs/gfl_teacher_digits/epoch_12.pth',
    bbox_head=dict(
        _student['bbox_head'],
        type='LDHead',
        loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))
