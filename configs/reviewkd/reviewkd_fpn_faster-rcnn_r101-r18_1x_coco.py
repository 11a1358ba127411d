# ReviewKD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x.
# Official settings (dvlab-research/ReviewKD Detection/configs/ReviewKD-R18-R101.yaml):
# ABF review path over the 5 FPN outputs p2..p6 (both FPNs 256 channels), HCL weight 1.2,
# no inherit initialisation, no gradient clipping; 180k iterations x 8 images at lr 0.01
# = mmdet's 1x, kept from the student recipe. (Their teacher is detectron2's R101.)
_base_ = ['../_base_/pairs/faster-rcnn_r101-r18_1x_coco.py']

num_levels = 5  # P2..P6
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
        distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.2)),
        loss_forward_mappings=dict(loss_reviewkd=dict(
            # no data_idx: the whole tuple of levels, shallow to deep
            preds_S=dict(from_student=True, recorder='fpn', connector='review'),
            preds_T=dict(from_student=False, recorder='fpn')))))
