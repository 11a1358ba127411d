# CWD on the five FPN outputs, toy GFL pair on the digits set.
_base_ = ['../_base_/pairs/gfl_digits.py']

levels = range(5)  # P3..P7, strides 8..128
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of 5 maps: pick a level with data_idx.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # Student FPN has 64 channels, the teacher's 128: a 1x1 conv per level.
        connectors={
            f'fpn{i}': dict(type='ConvModuleConnector', in_channel=64, out_channel=128,
                            kernel_size=1, norm_cfg=None, act_cfg=None)
            for i in levels
        },
        distill_losses={
            f'loss_cwd_fpn{i}': dict(type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=5.0)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i,
                             connector=f'fpn{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in levels
        }))
