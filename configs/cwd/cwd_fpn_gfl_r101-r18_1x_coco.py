# CWD on the FPN: GFL R101 ms-2x (44.7) -> GFL R18 1x. Same settings as the R50 student.
# Both FPNs have 256 channels: no connector.
_base_ = ['../_base_/pairs/gfl_r101-r18_1x_coco.py']

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
