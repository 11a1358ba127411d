# MGD on the five FPN outputs, toy RetinaNet pair on the digits set.
# Hyper-parameters of the official RetinaNet X101 -> R50 config (yzd-v/MGD and mmrazor 1.0):
# alpha=2e-5, lambda=0.65 per level, one generator per level.
_base_ = ['../_base_/pairs/retinanet_digits.py', '../_base_/distillers/mgd_fpn.py']

levels = range(5)  # P3..P7, strides 8..128
model = dict(
    distiller=dict(
        _base_.mgd_fpn_distiller,
        # One generator per level; it aligns the student's 64 channels to the teacher's 128.
        connectors={f'mgd{i}': dict(_base_.mgd_connector, student_channels=64,
                                     teacher_channels=128, lambda_mgd=0.65)
                    for i in levels},
        distill_losses={f'loss_mgd_fpn{i}': dict(_base_.mgd_loss, alpha_mgd=2e-5)
                        for i in levels},
        loss_forward_mappings={f'loss_mgd_fpn{i}': _base_.mgd_level_mappings[i]
                               for i in levels}))
