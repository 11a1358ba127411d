# CWD on the FPN: GFL R101 ms-2x (44.7) -> GFL R50 1x (40.2).
# tau=1, weight 5 per level, 5 levels: mmrazor 1.x `cwd_cls_head_gfl_r101_fpn_gfl_r50_fpn_1x_coco`
# (which, despite its name, distils the FPN outputs).
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py']

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
