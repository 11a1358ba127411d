# KD (Hinton et al. 2015) on the final logits, ImageNet settings: T=1, CE 0.5,
# KD 0.5. Published (DKD paper's table): 69.90 -> 71.03.
_base_ = ['../../_base_/cls_pair_in1k.py']

model = dict(
    _delete_=True,  # not the ResNet-18 classifier of the base
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(_base_.student, head=dict(
        _base_.student_head, loss=dict(type='CrossEntropyLoss', loss_weight=0.5))),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(type='kd_mmdet.KDLoss', temperature=1.0, loss_weight=0.5)),
        loss_forward_mappings=dict(
            loss_kd=dict(preds_S=dict(from_student=True, recorder='fc'),
                         preds_T=dict(from_student=False, recorder='fc')))))
