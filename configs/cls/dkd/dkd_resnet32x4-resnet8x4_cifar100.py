# DKD (Zhao et al., CVPR 2022) on the final logits: alpha*TCKD + beta*NCKD, CE weight 1,
# the distillation terms warmed up linearly over the first 20 epochs
# (weight x min(epoch / 20, 1), kd_mmdet.DistillLossWarmupHook). mdistiller's CIFAR
# settings: alpha 1, beta 8, T 4, 20-epoch warm-up. Published: 72.50 -> 76.32.
_base_ = ['../../_base_/cls_pair_cifar100.py']

model = dict(
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=_base_.student,
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc'),
            # head.loss_module(cls_score, target, ...): data_idx=1 is the label tensor.
            gt=dict(type='ModuleInputs', source='head.loss_module')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_dkd=dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=8.0, temperature=4.0,
                          loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_dkd=dict(preds_S=dict(from_student=True, recorder='fc'),
                          preds_T=dict(from_student=False, recorder='fc'),
                          gt_labels=dict(from_student=True, recorder='gt', data_idx=1)))))
custom_hooks = [dict(type='kd_mmdet.DistillLossWarmupHook', warmup_epochs=20)]
