# DKD on the RoI logits + ReviewKD on the FPN, toy Faster R-CNN pair (digits set).
_base_ = ['./dkd_faster-rcnn_digits.py',
          '../_base_/distillers/reviewkd_fpn.py']

# five FPN levels: P2..P6
model = dict(distiller=dict(
    student_recorders=dict(fpn=_base_.reviewkd_fpn_recorder),
    teacher_recorders=dict(fpn=_base_.reviewkd_fpn_recorder),
    connectors=dict(review=dict(
        _base_.reviewkd_connector,
        in_channels=[64] * 5,  # level i: student FPN width
        out_channels=128, mid_channels=128)),  # teacher FPN width
    distill_losses=dict(loss_reviewkd=_base_.reviewkd_loss),
    loss_forward_mappings=dict(loss_reviewkd=_base_.reviewkd_mapping)))
