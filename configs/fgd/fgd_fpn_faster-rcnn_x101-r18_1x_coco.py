# FGD on the FPN, detection plan row 5 (configs/plan/detection_plan.yaml): Faster R-CNN
# X101-64x4d ms-3x (43.1) -> Faster R-CNN R18 1x. The FGD authors publish no R18 recipe;
# settings of the nearest official one, Faster R-CNN R101 -> R50 (yzd-v/FGD
# configs/distillers/fgd/fgd_faster_rcnn_r101_fpn_2x_distill_faster_rcnn_r50_fpn_2x_coco.py):
# T=0.5, alpha=5e-5, beta=2.5e-5, gamma=5e-5, lambda=5e-7 on neck.fpn_convs.0..3 (4 levels),
# init_student=True, grad_clip max_norm=35.
# Deviation: that recipe trains 2x; here the plan's R18 1x, the schedule of its baseline.
_base_ = ['../_base_/pairs/faster-rcnn_x101-r18_1x_coco.py', '../_base_/distillers/fgd_fpn.py']

levels = range(4)  # P2..P5 (neck outputs 0..3 = fpn_convs.0..3); P6 is a max-pool of P5
# Both FPNs are 256 wide: FGDLoss needs no align conv.
fgd = dict(_base_.fgd_loss, student_channels=256, teacher_channels=256,
           alpha_fgd=5e-5, beta_fgd=2.5e-5, gamma_fgd=5e-5, lambda_fgd=5e-7)
model = dict(
    # Official "inherit" initialisation (init_student=True copies every non-backbone tensor
    # the student can take): the FPN output convs, RPN head and RoI head have the same
    # shapes in X101 and R18; the FPN lateral convs (inputs 256..2048 vs 64..512) do not
    # and keep their init, as the official non-strict load skips them.
    inherit_from_teacher=('neck', 'rpn_head', 'roi_head'),
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
