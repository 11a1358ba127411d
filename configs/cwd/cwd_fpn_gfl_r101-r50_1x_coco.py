# CWD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2). No published number for this
# placement (mmrazor's 41.9 is the class-logit config, cwd_cls-head_gfl_r101-r50_1x_coco.py).
# Recipe of mmrazor 1.x configs/distill/mmdet/cwd/cwd_cls_head_gfl_r101_fpn_gfl_r50_fpn_1x_
# coco.py, which despite its name distils the FPN: it inherits cwd_fpn_retina_r101_retina_
# r50_1x_coco.py (lr 0.01) and through it cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py —
# ChannelWiseDivergence tau=1, weight 10 on all 5 neck outputs, 1x schedule.
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P3..P7
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        distill_losses={f'loss_cwd_fpn{i}': dict(_base_.cwd_loss, loss_weight=10.0)
                        for i in levels}))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
