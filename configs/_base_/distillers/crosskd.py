# CrossKD (Wang et al., "CrossKD: Cross-Head Knowledge Distillation for Object Detection",
# CVPR 2024): the student's head features at a stacked-conv index run through the frozen
# teacher head's remaining layers (kd_mmdet.CrossKDDistill); these cross-head predictions
# mimic the teacher's. Loss settings of the official configs (jbwang1997/CrossKD):
#   crosskd_gfl_losses: crosskd_r50_gflv1_r101-2x-ms_fpn_1x_coco.py on master (87e156a4),
#     the config the official README links for 43.7: KDQualityFocalLoss beta 1 weight 1;
#     KnowledgeDistillationKLDivLoss T 1, summed over the bins (class_reduction='sum'),
#     weight 4; no GIoU term.
#   crosskd_gfl_losses_9f695b4e: the same file at commit 9f695b4e ("Update GFL",
#     2023-05-26), on unmerged branches only: KL weight 3 and GIoULoss weight 2.
#   crosskd_retinanet_losses: crosskd_r50_retinanet_r101_fpn_2x_coco.py:
#     KDQualityFocalLoss beta 1 weight 1; GIoULoss weight 1; no distribution term.
# Index 3 (the teacher's last of its 4 stacked convs) in all. The CrossKD terms are the
# algorithm's own; its distiller holds any further losses (e.g. PKD on the FPN).
crosskd_gfl_losses = dict(
    reused_teacher_head_idx=3,
    loss_cls_kd=dict(type='kd_mmdet.KDQualityFocalLoss', beta=1.0, loss_weight=1.0),
    loss_reg_kd=dict(type='kd_mmdet.DistributionKLLoss', temperature=1.0, loss_weight=4.0),
    loss_bbox_kd=None)
crosskd_gfl_losses_9f695b4e = dict(
    crosskd_gfl_losses,
    loss_reg_kd=dict(crosskd_gfl_losses['loss_reg_kd'], loss_weight=3.0),
    loss_bbox_kd=dict(type='mmdet.GIoULoss', loss_weight=2.0))
crosskd_retinanet_losses = dict(
    reused_teacher_head_idx=3,
    loss_cls_kd=dict(type='kd_mmdet.KDQualityFocalLoss', beta=1.0, loss_weight=1.0),
    loss_reg_kd=None,
    loss_bbox_kd=dict(type='mmdet.GIoULoss', loss_weight=1.0))
# No distiller losses: CrossKD alone.
empty_distiller = dict(type='kd_mmdet.ConfigurableDistiller', distill_losses=dict(),
                       loss_forward_mappings=dict())
# The toy pairs' heads: student 64 channels and 2 stacked convs, teacher 128 and 4. The
# student's feature after its first conv enters the teacher's last (index 3), so one
# student conv and the predictors stay trained by the detection loss alone, as in the
# paper's 4-conv pairs; a 1x1 conv per branch maps 64 to 128 channels (the authors report
# that such a connector works as well, jbwang1997/CrossKD#8).
toy_head_bridge = dict(
    student_head_idx=1,
    connector=dict(type='ConvModuleConnector', in_channel=64, out_channel=128,
                   kernel_size=1, norm_cfg=None, act_cfg=None))
