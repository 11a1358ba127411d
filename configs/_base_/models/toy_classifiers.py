# Narrow CIFAR ResNets (kd_mmdet.CifarResNet, He et al. 2016 sec. 4.2) for the 32 px
# digits set: a teacher and a student, defined once here and picked by the leaf configs
# (`model = _base_.cls_teacher`, `architecture=_base_.cls_student`).
_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=10,
    mean=[127.5, 127.5, 127.5],
    std=[64.0, 64.0, 64.0],
    to_rgb=True)


def _classifier(depth, stem_channels, base_channels):
    # Three stages of base, 2·base, 4·base channels; the head sees the last one.
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=_preprocessor,
        # PyTorch's default init: from scratch on this small set, mmpretrain's Kaiming
        # init with zero-initialised residual branches left the loss at chance level
        # for the first epochs.
        backbone=dict(type='kd_mmdet.CifarResNet', depth=depth,
                      stem_channels=stem_channels, base_channels=base_channels,
                      zero_init_residual=False, init_cfg=None),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=4 * base_channels,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


# The original CIFAR ResNet-20 (3 blocks a stage) teaches ResNet-8 (1 block a stage) of the
# same widths, 16, 32, 64 channels: a depth gap, like ResNet32x4 -> ResNet8x4.
cls_teacher = _classifier(20, 16, 16)
cls_student = _classifier(8, 16, 16)
# Channels of each stage, for connectors.
cls_teacher_channels = (16, 32, 64)
cls_student_channels = (16, 32, 64)
