# FGD on the first four FPN outputs, toy Faster R-CNN pair on the digits set.
# Hyper-parameters of the official Faster R-CNN R101 -> R50 config (yzd-v/FGD
# fgd_faster_rcnn_r101_fpn_2x_distill_faster_rcnn_r50_fpn_2x_coco.py): T=0.5,
# alpha=5e-5, beta=2.5e-5, gamma=5e-5, lambda=5e-7 on neck.fpn_convs.0..3; clipping at 35.
_base_ = ['../_base_/pairs/faster-rcnn_digits.py']

levels = range(4)  # P2..P5 (neck outputs 0..3 = fpn_convs.0..3); P6 is a max-pool of P5
model = dict(
    # No "inherit" initialisation: the student's neck and heads are narrower (64 vs 128).
    distiller=dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(
            # The neck returns one tuple of 5 maps: pick a level with data_idx.
            fpn=dict(type='ModuleOutputs', source='neck'),
            # The RPN head (a dense head) unpacks the GT once per step; its inputs are the
            # RPN's copies of the data samples: same boxes and batch_input_shape.
            gt=dict(type='FunctionInputs',
                    source='mmdet.models.dense_heads.base_dense_head.unpack_gt_instances')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        # FGDLoss aligns the student's 64 channels to the teacher's 128 with its own 1x1 conv.
        distill_losses={
            f'loss_fgd_fpn{i}': dict(
                type='kd_mmdet.FGDLoss', student_channels=64, teacher_channels=128,
                temp=0.5, alpha_fgd=5e-5, beta_fgd=2.5e-5, gamma_fgd=5e-5, lambda_fgd=5e-7)
            for i in levels
        },
        loss_forward_mappings={
            f'loss_fgd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),  # level i
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i),  # level i
                # data_idx=0: the first argument of unpack_gt_instances, the data samples
                data_samples=dict(from_student=True, recorder='gt', data_idx=0))
            for i in levels
        }))
# Official FGD runs clip gradients at max_norm=35 (same as the toy base; stated here).
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
