# ReviewKD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2). No published ReviewKD
# result for GFL: the settings of the official one-stage config (dvlab-research/ReviewKD
# Detection/configs/ReviewKD-RT50-RT101.yaml) — ABF review path over the 5 FPN outputs
# (256 channels), HCL weight 1.0, no inherit initialisation, no clipping — on GFL's 1x recipe.
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py']

num_levels = 5  # P3..P7
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of maps; without data_idx the whole tuple is used.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # One review path over all levels (each level fuses the deeper ones).
        connectors=dict(review=dict(
            type='kd_mmdet.ReviewKDConnector',
            in_channels=[256 for _ in range(num_levels)],  # level i: student FPN width
            out_channels=256, mid_channels=256)),
        distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)),
        loss_forward_mappings=dict(loss_reviewkd=dict(
            # no data_idx: the whole tuple of levels, shallow to deep
            preds_S=dict(from_student=True, recorder='fpn', connector='review'),
            preds_T=dict(from_student=False, recorder='fpn')))))
