# CWD on the five FPN outputs, toy GFL pair on the digits set.
_base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/cwd.py']

levels = range(5)  # P3..P7, strides 8..128
model = dict(
    distiller=dict(
        _base_.cwd_fpn_distiller,
        # Student FPN has 64 channels, the teacher's 128: a 1x1 conv per level.
        connectors={
            f'fpn{i}': dict(type='ConvModuleConnector', in_channel=64, out_channel=128,
                            kernel_size=1, norm_cfg=None, act_cfg=None)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_cwd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i,
                             connector=f'fpn{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in levels
        }))
