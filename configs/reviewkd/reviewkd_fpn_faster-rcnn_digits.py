# ReviewKD on the five FPN outputs, toy Faster R-CNN pair on the digits set.
# As in the official detection configs (dvlab-research/ReviewKD Detection/configs): one ABF
# review path over all FPN levels, HCL loss summed over the levels, weight 1.0.
_base_ = ['../_base_/pairs/faster-rcnn_digits.py']

num_levels = 5  # P2..P6, strides 4..64 (ReviewKD uses all of them, as detectron2's p2..p6)
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of 5 maps; without data_idx the whole tuple is used.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # One review path over all levels (each level fuses the deeper ones): the student's
        # 64 channels per level in, the teacher's 128 out, 128-channel residuals between.
        connectors=dict(review=dict(
            type='kd_mmdet.ReviewKDConnector',
            in_channels=[64 for _ in range(num_levels)],  # level i: student FPN width
            out_channels=128, mid_channels=128)),
        distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)),
        loss_forward_mappings=dict(loss_reviewkd=dict(
            # no data_idx: the whole tuple of levels, shallow to deep
            preds_S=dict(from_student=True, recorder='fpn', connector='review'),
            preds_T=dict(from_student=False, recorder='fpn')))))
