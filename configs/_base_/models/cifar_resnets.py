# ResNet32x4 (teacher) and ResNet8x4 (student) for CIFAR-100, the standard pair of CRD,
# DKD and mdistiller: kd_mmdet.CifarResNet (three stages of BasicBlocks, 3x3 stem),
# stem 32 and stages 64, 128, 256 channels; 5 blocks a stage vs 1. mmpretrain has no
# such model (its ResNet_CIFAR is the four-stage ImageNet ResNet with a 3x3 stem).
def _classifier(depth):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            num_classes=100,
            mean=[129.304, 124.070, 112.434],
            std=[68.170, 65.392, 70.418],
            to_rgb=False),  # CIFAR100 loads RGB already
        backbone=dict(type='kd_mmdet.CifarResNet', depth=depth, stem_channels=32,
                      base_channels=64),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


resnet32x4 = _classifier(32)
resnet8x4 = _classifier(8)
resnet_x4_channels = (64, 128, 256)
