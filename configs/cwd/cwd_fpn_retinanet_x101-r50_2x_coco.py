# CWD on the FPN: RetinaNet X101-64x4d (41.0) -> RetinaNet R50 2x (37.4); published 40.5
# (mmdetection-distiller: tau=1, weight 5 per level, 5 levels).
_base_ = ['../_base_/pairs/retinanet_x101-r50_2x_coco.py']

levels = range(5)  # P3..P7
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of maps: data_idx=i picks level i.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_cwd_fpn{i}': dict(type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=5.0)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in levels
        }))
