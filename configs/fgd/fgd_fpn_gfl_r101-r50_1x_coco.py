# FGD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2); published 43.5 (FGD README).
# Official settings (yzd-v/FGD configs/distillers/fgd/fgd_gfl_r101_distill_gfl_r50_fpn_1x_coco.py):
# T=0.5, alpha=1e-3, beta=5e-4, gamma=5e-4, lambda=5e-6 on neck.fpn_convs.0..4 (= the neck's
# 5 outputs), init_student=True, grad_clip max_norm=35; SGD lr 0.01, 8 GPUs x 2 images.
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py']

levels = range(5)  # P3..P7
model = dict(
    # Official "inherit" initialisation (init_student=True): R50 and R101 GFL have the same
    # neck and head shapes, so the student starts from the teacher's neck and head.
    inherit_from_teacher=('neck', 'bbox_head'),
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(
            # The neck returns one tuple of maps: data_idx=i picks level i.
            fpn=dict(type='ModuleOutputs', source='neck'),
            # The dense head unpacks the GT once per step; its inputs carry the boxes.
            gt=dict(type='FunctionInputs',
                    source='mmdet.models.dense_heads.base_dense_head.unpack_gt_instances')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_fgd_fpn{i}': dict(
                type='kd_mmdet.FGDLoss', student_channels=256, teacher_channels=256,
                temp=0.5, alpha_fgd=1e-3, beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=5e-6)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_fgd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),  # level i
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i),  # level i
                # data_idx=0: the first argument of unpack_gt_instances, the data samples
                data_samples=dict(from_student=True, recorder='gt', data_idx=0))
            for i in levels
        }))
# Gradient clipping of the official runs (their mmcv-1 `optimizer_config` key).
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
