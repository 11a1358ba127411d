# MGD on the first four FPN outputs, toy Faster R-CNN pair on the digits set.
# Hyper-parameters of the official Faster R-CNN config (yzd-v/MGD det/configs/distillers/mgd/
# cascade_mask_rcnn_rx101_32x4d_distill_faster_rcnn_r50_fpn_2x_coco.py): alpha=5e-7,
# lambda=0.45 on neck.fpn_convs.0..3, one generator per level.
_base_ = ['../_base_/pairs/faster-rcnn_digits.py', '../_base_/distillers/mgd_fpn.py']

levels = range(4)  # P2..P5 (neck outputs 0..3 = fpn_convs.0..3); P6 is a max-pool of P5
model = dict(
    distiller=dict(
        _base_.mgd_fpn_distiller,
        # One generator per level; it aligns the student's 64 channels to the teacher's 128.
        connectors={f'mgd{i}': dict(_base_.mgd_connector, student_channels=64,
                                     teacher_channels=128, lambda_mgd=0.45)
                    for i in levels},
        distill_losses={f'loss_mgd_fpn{i}': dict(_base_.mgd_loss, alpha_mgd=5e-7)
                        for i in levels},
        loss_forward_mappings={f'loss_mgd_fpn{i}': _base_.mgd_level_mappings[i]
                               for i in levels}))
