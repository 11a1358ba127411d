# FGD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2); published 43.5 (FGD README).
# Official settings (yzd-v/FGD configs/distillers/fgd/fgd_gfl_r101_distill_gfl_r50_fpn_1x_coco.py):
# T=0.5, alpha=1e-3, beta=5e-4, gamma=5e-4, lambda=5e-6 on neck.fpn_convs.0..4 (= the neck's
# 5 outputs), init_student=True, grad_clip max_norm=35; SGD lr 0.01, 8 GPUs x 2 images.
# Masks: the paper's (mask_mode='paper'); the official code's transposed, img_shape-mapped
# masks, which produced the published numbers, are FGDLoss(mask_mode='official').
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/fgd_fpn.py']

levels = range(5)  # P3..P7
fgd = dict(_base_.fgd_loss, student_channels=256, teacher_channels=256,
           alpha_fgd=1e-3, beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=5e-6)
model = dict(
    # Official "inherit" initialisation (init_student=True): R50 and R101 GFL have the same
    # neck and head shapes, so the student starts from the teacher's neck and head.
    inherit_from_teacher=('neck', 'bbox_head'),
    distiller=dict(
        _base_.fgd_fpn_distiller,
        distill_losses={f'loss_fgd_fpn{i}': fgd for i in levels},
        loss_forward_mappings={f'loss_fgd_fpn{i}': _base_.fgd_level_mappings[i]
                               for i in levels}))
# Gradient clipping of the official runs (their mmcv-1 `optimizer_config` key).
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
