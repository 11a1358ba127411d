# CWD on the FPN: Faster R-CNN R101 2x (39.8) -> Faster R-CNN R18 1x.
# Same settings as the R50 student; both FPNs have 256 channels.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r18_1x_coco.py']

levels = range(5)  # P2..P6
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of maps: data_idx=i picks level i.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        distill_losses={
            f'loss_cwd_fpn{i}': dict(type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=10.0)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in levels
        }))
