# CWD on the FPN, detection plan row 1 (configs/plan/detection_plan.yaml): GFL X101-32x4d
# ms-2x (45.9) -> GFL R18 1x. The CWD authors publish no R18 detection recipe; settings of
# the nearest official one, mmrazor 1.x configs/distill/mmdet/cwd/
# cwd_cls_head_gfl_r101_fpn_gfl_r50_fpn_1x_coco.py (GFL R101 -> R50; despite its name it
# distils the FPN, inheriting cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py): ChannelWiseDivergence
# tau=1, weight 10 on all 5 neck outputs, 1x at lr 0.01 (the student recipe's own).
# Both FPNs are 256 wide (P3..P7): no connector.
_base_ = ['../_base_/pairs/gfl_x101-r18_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P3..P7
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
