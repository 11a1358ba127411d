# BLD (Yu et al., arXiv 2411.01547): stepping stones N_i = teacher stages after i o C_i o
# student stages <= i for i in (0, 1, 2); L = alpha*L_task + beta*L_distill + gamma*L_cross over
# the student and every N_i, KD at T=1.0 (kd_mmdet.BlockwiseLogitDistill). The paper has
# no public code; alpha = beta = gamma = 1 are our choice. ImageNet.
_base_ = ['../../_base_/cls_pair_in1k.py']

stages = (0, 1, 2)
model = dict(
    type='kd_mmdet.BlockwiseLogitDistill',
    stages=stages,
    # C_i: 1x1 conv + BN + ReLU from student stage i to the teacher's stage-i channels.
    connectors=[dict(type='mmrazor.ConvModuleConnector',
                     in_channel=_base_.student_channels[i],
                     out_channel=_base_.teacher_channels[i], kernel_size=1,
                     norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
                for i in stages],
    task_weight=1.0,
    distill_weight=1.0,
    cross_weight=1.0,
    temperature=1.0)
