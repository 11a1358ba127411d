# ReviewKD on the FPN (Chen et al., "Distilling Knowledge via Knowledge Review", CVPR 2021),
# as in the official detection configs (dvlab-research/ReviewKD Detection/configs): one ABF
# review path over all FPN levels (each level fuses the deeper ones), HCL summed over the
# levels. The neck returns one tuple of maps; without data_idx the whole tuple is used,
# shallow to deep. A leaf sets the connector's widths, which depend on the pair:
#   connectors=dict(review=dict(_base_.reviewkd_connector,
#       in_channels=[<student FPN width>] * <levels>, out_channels=<teacher FPN width>,
#       mid_channels=<residual width>))
reviewkd_fpn_recorder = dict(type='ModuleOutputs', source='neck')
reviewkd_connector = dict(type='kd_mmdet.ReviewKDConnector')
reviewkd_loss = dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)
reviewkd_mapping = dict(
    preds_S=dict(from_student=True, recorder='fpn', connector='review'),
    preds_T=dict(from_student=False, recorder='fpn'))
reviewkd_fpn_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(fpn=reviewkd_fpn_recorder),
    teacher_recorders=dict(fpn=reviewkd_fpn_recorder),
    distill_losses=dict(loss_reviewkd=reviewkd_loss),
    loss_forward_mappings=dict(loss_reviewkd=reviewkd_mapping))
