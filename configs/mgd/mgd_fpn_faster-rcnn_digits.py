# MGD on the first four FPN outputs, toy Faster R-CNN pair on the digits set.
# Hyper-parameters of the official Faster R-CNN config (yzd-v/MGD det/configs/distillers/mgd/
# cascade_mask_rcnn_rx101_32x4d_distill_faster_rcnn_r50_fpn_2x_coco.py): alpha=5e-7,
# lambda=0.45 on neck.fpn_convs.0..3, one generator per level.
_base_ = ['../_base_/pairs/faster-rcnn_digits.py']

levels = range(4)  # P2..P5 (neck outputs 0..3 = fpn_convs.0..3); P6 is a max-pool of P5
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of 5 maps: pick a level with data_idx.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # One generator per level; it aligns the student's 64 channels to the teacher's 128.
        connectors={
            f'mgd{i}': dict(type='kd_mmdet.MGDConnector', student_channels=64,
                            teacher_channels=128, lambda_mgd=0.45)
            for i in levels
        },
        distill_losses={
            f'loss_mgd_fpn{i}': dict(type='kd_mmdet.MGDLoss', alpha_mgd=5e-7)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_mgd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i,  # level i
                             connector=f'mgd{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))  # level i
            for i in levels
        }))
