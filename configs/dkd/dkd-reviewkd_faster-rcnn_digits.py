# DKD on the RoI logits + ReviewKD on the FPN, toy Faster R-CNN pair (digits set).
_base_ = ['./dkd_faster-rcnn_digits.py']

num_levels = 5  # P2..P6
model = dict(distiller=dict(
    student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    connectors=dict(review=dict(
        type='kd_mmdet.ReviewKDConnector',
        in_channels=[64 for _ in range(num_levels)],  # student FPN width
        out_channels=128, mid_channels=128)),  # teacher FPN width
    distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)),
    loss_forward_mappings=dict(loss_reviewkd=dict(
        preds_S=dict(from_student=True, recorder='fpn', connector='review'),
        preds_T=dict(from_student=False, recorder='fpn')))))
