# FGD on FPN levels (Yang et al., "Focal and Global Knowledge Distillation for Detectors",
# CVPR 2022): one kd_mmdet.FGDLoss per level, each with the data samples for its masks.
#   fpn: the neck's outputs, one tuple of maps; data_idx=i picks level i;
#   gt:  inputs of mmdet's unpack_gt_instances, which a dense head (GFL, RetinaNet, or
#        Faster R-CNN's RPN head, whose data samples carry the same boxes and
#        batch_input_shape) calls once per step; data_idx=0 is the data samples.
# A leaf sets the pair's widths and the official alpha/beta/gamma/lambda:
#   distill_losses={f'loss_fgd_fpn{i}': dict(fgd_loss, student_channels=..., ...) ...},
#   loss_forward_mappings={f'loss_fgd_fpn{i}': fgd_level_mappings[i] ...}
# FGDLoss aligns differing student and teacher widths with its own 1x1 conv.
fgd_loss = dict(type='kd_mmdet.FGDLoss', temp=0.5)
fgd_level_mappings = [
    dict(preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
         preds_T=dict(from_student=False, recorder='fpn', data_idx=i),
         data_samples=dict(from_student=True, recorder='gt', data_idx=0))
    for i in range(5)]
fgd_fpn_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=dict(
        fpn=dict(type='ModuleOutputs', source='neck'),
        gt=dict(type='FunctionInputs',
                source='mmdet.models.dense_heads.base_dense_head.unpack_gt_instances')),
    teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')))
