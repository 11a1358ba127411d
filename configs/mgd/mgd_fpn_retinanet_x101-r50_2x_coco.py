# MGD on the FPN: RetinaNet X101-64x4d 1x (41.0) -> RetinaNet R50 2x (37.4); published 41.0
# (MGD README; mmrazor 1.0 with this teacher checkpoint). Settings of mmrazor 1.0
# `mgd_fpn_retina_x101_retina_r50_2x_coco.py` and yzd-v/MGD
# `retina_rx101_64x4d_distill_retina_r50_fpn_2x_coco.py`: alpha=2e-5, lambda=0.65 on
# neck.fpn_convs.0..4 (= the neck's 5 outputs), student neck and head initialised from the
# teacher, grad_clip max_norm=35; SGD lr 0.01, 8 GPUs x 2 images (the student recipe's own).
# (yzd-v/MGD loads the X101 ms-3x checkpoint into this 1x teacher config; mmrazor the 1x.)
_base_ = ['../_base_/pairs/retinanet_x101-r50_2x_coco.py', '../_base_/distillers/mgd_fpn.py']

levels = range(5)  # P3..P7
model = dict(
    # "Inherit" initialisation as in both references (init_student=True / Pretrained
    # init_cfg): the X101 and R50 RetinaNets have the same neck and head shapes.
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
# The references clip gradients with the mmcv-1 key `optimizer_config`, which mmengine
# ignores (so mmrazor 1.0's run did not clip); mmengine's key is optim_wrapper.clip_grad.
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
