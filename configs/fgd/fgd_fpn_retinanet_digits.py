# FGD on the five FPN outputs, toy RetinaNet pair on the digits set.
# Hyper-parameters of the official RetinaNet R101/X101 -> R50 configs (yzd-v/FGD):
# T=0.5, alpha=1e-3, beta=5e-4, gamma=5e-4, lambda=5e-6 per level; gradient clipping at 35.
_base_ = ['../_base_/pairs/retinanet_digits.py', '../_base_/distillers/fgd_fpn.py']

levels = range(5)  # P3..P7, strides 8..128
fgd = dict(_base_.fgd_loss, student_channels=64, teacher_channels=128,
           alpha_fgd=1e-3, beta_fgd=5e-4, gamma_fgd=5e-4, lambda_fgd=5e-6)
model = dict(
    # No "inherit" initialisation: the student's neck and head are narrower (64 vs 128).
    distiller=dict(
        _base_.fgd_fpn_distiller,
        distill_losses={f'loss_fgd_fpn{i}': fgd for i in levels},
        loss_forward_mappings={f'loss_fgd_fpn{i}': _base_.fgd_level_mappings[i]
                               for i in levels}))
# Official FGD runs clip gradients at max_norm=35 (same as the toy base; stated here).
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
