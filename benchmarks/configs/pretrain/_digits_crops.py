# Pretraining of the toy detectors' backbones as digit classifiers: the stand-in for the
# ImageNet weights every mmdet COCO config starts from (benchmarks/quality.py, stage
# "pretrain"). Data: python tools/make_digits_crops.py data/digits_crops
# (kd_mmdet.datasets.digits_crops: digits cut from detection-style images at the
# detector's scale, 40 px, disjoint handwriting in train and val).
# The backbone is mmdet's ResNet exactly as the detectors build it, so the checkpoint
# loads into them with init_cfg=dict(type='Pretrained', prefix='backbone.', ...).
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['kd_mmdet', 'mmdet.models'], allow_failed_imports=False)
default_scope = 'mmpretrain'

dataset_type = 'CustomDataset'
data_root = 'data/digits_crops/'
metainfo = dict(classes=('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'))
crop_size = 40

# No flip: a mirrored digit is not the same digit.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size, padding=3, padding_mode='edge'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,  # 40 px PNGs decode faster than a worker process starts
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train',
                 metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=200,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='val',
                 metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# The detectors' preprocessing (toy_detectors.py: ImageNet mean/std, BGR -> RGB), so the
# pretrained statistics match what the detector feeds the backbone.
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=10,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)


def _classifier(depth, base_channels, out_channels):
    return dict(
        type='ImageClassifier',
        data_preprocessor=data_preprocessor,
        backbone=dict(type='mmdet.ResNet', depth=depth, base_channels=base_channels,
                      num_stages=4, out_indices=(3, ), frozen_stages=-1,
                      norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                      style='pytorch', init_cfg=None),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=out_channels,
                  loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                            loss_weight=1.0)))


# The detectors' backbones (configs/_base_/models/toy_detectors.py): the teacher's
# ResNet-50 with 64 base channels (C5 2048), the student's ResNet-18 with 32 (C5 256).
resnet50_classifier = _classifier(50, 64, 2048)
resnet18_w32_classifier = _classifier(18, 32, 256)


# Every epoch is validated: the accuracy curve is part of the benchmark's report.
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(enable=False, base_batch_size=64)
randomness = dict(seed=0)
