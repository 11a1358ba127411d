# MGD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2). No published MGD result for
# GFL: the one-stage recipe of the official RetinaNet config (yzd-v/MGD
# `retina_rx101_64x4d_distill_retina_r50_fpn_2x_coco.py`, mmrazor 1.0) — alpha=2e-5,
# lambda=0.65 on the neck's 5 outputs, student neck and head initialised from the teacher,
# grad_clip max_norm=35 — on GFL's own 1x recipe (SGD lr 0.01, 8 GPUs x 2 images).
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/mgd_fpn.py']

levels = range(5)  # P3..P7
model = dict(
    # "Inherit" initialisation of the RetinaNet recipe: R50 and R101 GFL have the same neck
    # and head shapes.
    inherit_from_teacher=('neck', 'bbox_head'),
    distiller=dict(
        _base_.mgd_fpn_distiller,
        # One generator per level.
        connectors={f'mgd{i}': dict(_base_.mgd_connector, student_channels=256,
                                     teacher_channels=256, lambda_mgd=0.65)
                    for i in levels},
        distill_losses={f'loss_mgd_fpn{i}': dict(_base_.mgd_loss, alpha_mgd=2e-5)
                        for i in levels},
        loss_forward_mappings={f'loss_mgd_fpn{i}': _base_.mgd_level_mappings[i]
                               for i in levels}))
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
