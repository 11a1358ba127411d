# MGD on the five FPN outputs, toy RetinaNet pair on the digits set.
# Hyper-parameters of the official RetinaNet X101 -> R50 config (yzd-v/MGD and mmrazor 1.0):
# alpha=2e-5, lambda=0.65 per level, one generator per level.
_base_ = ['../_base_/pairs/retinanet_digits.py']

levels = range(5)  # P3..P7, strides 8..128
model = dict(
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        # The neck returns one tuple of 5 maps: pick a level with data_idx.
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # One generator per level; it aligns the student's 64 channels to the teacher's 128.
        connectors={
            f'mgd{i}': dict(type='kd_mmdet.MGDConnector', student_channels=64,
                            teacher_channels=128, lambda_mgd=0.65)
            for i in levels
        },
        distill_losses={
            f'loss_mgd_fpn{i}': dict(type='kd_mmdet.MGDLoss', alpha_mgd=2e-5)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_mgd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i,  # level i
                             connector=f'mgd{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))  # level i
            for i in levels
        }))
