# DKD (Zhao et al., CVPR 2022) on the final logits: alpha*TCKD + beta*NCKD, CE weight 1,
# the distillation terms warmed up linearly over the first 1 epochs
# (weight x min(epoch / 1, 1), kd_mmdet.DistillLossWarmupHook). ImageNet settings: alpha 1,
# beta 0.5, T 1; warm-up 1 epoch (recalled from mdistiller's ImageNet config).
# Published: 69.90 -> 71.70.
_base_ = ['../../_base_/cls_pair_in1k.py']

model = dict(
    _delete_=True,  # not the ResNet-18 classifier of the base
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
            loss_dkd=dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=0.5, temperature=1.0,
                          loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_dkd=dict(preds_S=dict(from_student=True, recorder='fc'),
                          preds_T=dict(from_student=False, recorder='fc'),
                          gt_labels=dict(from_student=True, recorder='gt', data_idx=1)))))
custom_hooks = [dict(type='kd_mmdet.DistillLossWarmupHook', warmup_epochs=1)]
