# MGD on FPN levels (Yang et al., "Masked Generative Distillation", ECCV 2022): per level one
# generator (kd_mmdet.MGDConnector: random mask, then conv-ReLU-conv to the teacher's width)
# on the student's map and one kd_mmdet.MGDLoss against the teacher's map.
#   fpn: the neck's outputs, one tuple of maps; data_idx=i picks level i.
# A leaf sets the pair's widths, lambda and alpha:
#   connectors={f'mgd{i}': dict(mgd_connector, student_channels=..., teacher_channels=...,
#                               lambda_mgd=...) ...},
#   distill_losses={f'loss_mgd_fpn{i}': dict(mgd_loss, alpha_mgd=...) ...},
#   loss_forward_mappings={f'loss_mgd_fpn{i}': mgd_level_mappings[i] ...}
mgd_connector = dict(type='kd_mmdet.MGDConnector')
mgd_loss = dict(type='kd_mmdet.MGDLoss')
mgd_level_mappings = [
    dict(preds_S=dict(from_student=True, recorder='fpn', data_idx=i, connector=f'mgd{i}'),
         preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
    for i in range(5)]
mgd_fpn_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')))
