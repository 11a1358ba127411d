# DKD on the RoI logits + ReviewKD on the FPN, the combination the DKD paper reports:
# Faster R-CNN R101 2x (39.8) -> R50 1x (37.4; paper: 40.65). DKD alpha 1, beta 0.25, T 1;
# ReviewKD as configs/reviewkd/reviewkd_fpn_faster-rcnn_r101-r50_1x_coco.py (HCL weight 1).
# RoIHeadDistill runs the teacher's neck under its recorders, so FPN recorders work as usual.
_base_ = ['./dkd_faster-rcnn_r101-r50_1x_coco.py']

num_levels = 5  # P2..P6
model = dict(distiller=dict(
    student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    connectors=dict(review=dict(
        type='kd_mmdet.ReviewKDConnector',
        in_channels=[256 for _ in range(num_levels)],  # level i: student FPN width
        out_channels=256, mid_channels=256)),
    distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)),
    loss_forward_mappings=dict(loss_reviewkd=dict(
        # no data_idx: the whole tuple of levels, shallow to deep
        preds_S=dict(from_student=True, recorder='fpn', connector='review'),
        preds_T=dict(from_student=False, recorder='fpn')))))
