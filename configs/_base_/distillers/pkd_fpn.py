# PKD (Cao et al., "PKD: General Distillation Framework for Object Detectors via Pearson
# Correlation Coefficient", NeurIPS 2022): one kd_mmdet.PKDLoss per FPN level, student
# and teacher maps standardised per channel, then MSE / 2.
#   fpn: the neck's outputs, one tuple of maps; data_idx=i picks level i.
# mmrazor's recipes (configs/distill/mmdet/pkd) distil neck outputs 0..3 with weight 6
# (Faster R-CNN) or 10 (RetinaNet); CrossKD + PKD on GFL distils all five with weight 6.
# A leaf picks its levels and weight:
#   distill_losses={f'loss_pkd_fpn{i}': dict(pkd_loss, loss_weight=...) for i in levels},
#   loss_forward_mappings={f'loss_pkd_fpn{i}': pkd_level_mappings[i] for i in levels}
# (pkd_level_mappings_connected[i] for a narrower student with connectors fpn0..fpn4).
pkd_loss = dict(type='kd_mmdet.PKDLoss')
pkd_level_mappings = [
    dict(preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
         preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
    for i in range(5)]
pkd_level_mappings_connected = [
    dict(preds_S=dict(from_student=True, recorder='fpn', data_idx=i, connector=f'fpn{i}'),
         preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
    for i in range(5)]
_neck = dict(fpn=dict(type='ModuleOutputs', source='neck'))
pkd_fpn_distiller = dict(
    type='kd_mmdet.ConfigurableDistiller',
    student_recorders=_neck,
    teacher_recorders=_neck)
# The toy pairs: student FPN 64 channels, teacher 128 (a 1x1 conv per level, as the CWD,
# MGD and FGD toy configs have; PKD standardises the connector's output).
toy_fpn_connectors = {
    f'fpn{i}': dict(type='ConvModuleConnector', in_channel=64, out_channel=128,
                    kernel_size=1, norm_cfg=None, act_cfg=None)
    for i in range(5)}
