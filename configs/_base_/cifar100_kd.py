# CIFAR-100 data, schedule and runtime of the distillation literature (CRD, DKD,
# mdistiller): batch 64, SGD lr 0.05, momentum 0.9, weight decay 5e-4, 240 epochs,
# lr x0.1 at epochs 150, 180, 210; random crop (pad 4) and horizontal flip.
_base_ = ['mmpretrain::_base_/datasets/cifar100_bs16.py',
          'mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['kd_mmdet'], allow_failed_imports=False)
default_scope = 'mmpretrain'

train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader
max_epochs = 240
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210],
                       gamma=0.1)
auto_scale_lr = dict(base_batch_size=64)
