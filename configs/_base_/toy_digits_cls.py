# The bundled digits classification set, its schedule and runtime (mmpretrain).
# Make the data first:  python tools/make_digits_cls.py data/digits_cls
# (kd_mmdet.datasets.make_digits_classification: 3,000 train / 1,000 val images of
# 32 px, 10 classes, disjoint handwriting in train and val).
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['kd_mmdet'], allow_failed_imports=False)
default_scope = 'mmpretrain'

dataset_type = 'CustomDataset'
data_root = 'data/digits_cls/'
metainfo = dict(classes=('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'))

# No flip: a mirrored digit is not the same digit.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,  # 32 px PNGs decode faster than a worker process starts
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

# From-scratch schedule: AdamW, 50-iteration warm-up, cosine decay; every run of the
# table uses it unchanged.
# `tools/train.py --epochs N` shortens it (the cosine end follows).
max_epochs = 15
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(enable=False, base_batch_size=64)
randomness = dict(seed=0)
