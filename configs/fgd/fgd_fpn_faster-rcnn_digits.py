# FGD on the first four FPN outputs, toy Faster R-CNN pair on the digits set.
# Hyper-parameters of the official Faster R-CNN R101 -> R50 config (yzd-v/FGD
# fgd_faster_rcnn_r101_fpn_2x_distill_faster_rcnn_r50_fpn_2x_coco.py): T=0.5,
# alpha=5e-5, beta=2.5e-5, gamma=5e-5, lambda=5e-7 on neck.fpn_convs.0..3; clipping at 35.
_base_ = ['../_base_/pairs/faster-rcnn_digits.py', '../_base_/distillers/fgd_fpn.py']

levels = range(4)  # P2..P5 (neck outputs 0..3 = fpn_convs.0..3); P6 is a max-pool of P5
fgd = dict(_base_.fgd_loss, student_channels=64, teacher_channels=128,
           alpha_fgd=5e-5, beta_fgd=2.5e-5, gamma_fgd=5e-5, lambda_fgd=5e-7)
model = dict(
    # No "inherit" initialisation: the student's neck and heads are narrower (64 vs 128).
    distiller=dict(
        _base_.fgd_fpn_distiller,
        distill_losses={f'loss_fgd_fpn{i}': fgd for i in levels},
        loss_forward_mappings={f'loss_fgd_fpn{i}': _base_.fgd_level_mappings[i]
                               for i in levels}))
# Official FGD runs clip gradients at max_norm=35 (same as the toy base; stated here).
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
