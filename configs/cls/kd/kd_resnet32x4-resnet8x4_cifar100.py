# KD (Hinton et al. 2015) on the final logits, CIFAR-100 settings of the
# DKD/mdistiller baselines: T=4, CE 0.1, KD 0.9. Published: 72.50 -> 73.33.
_base_ = ['../../_base_/cls_pair_cifar100.py']

model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=dict(_base_.student, head=dict(
        _base_.student_head, loss=dict(type='CrossEntropyLoss', loss_weight=0.1))),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(type='kd_mmdet.KDLoss', temperature=4.0, loss_weight=0.9)),
        loss_forward_mappings=dict(
            loss_kd=dict(preds_S=dict(from_student=True, recorder='fc'),
                         preds_T=dict(from_student=False, recorder='fc')))))
