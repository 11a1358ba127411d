# Distillation on ImageNet-1k: ResNet-34 (73.62 top-1 in mmpretrain's zoo) teaches
# ResNet-18 (69.90 alone), mmpretrain's configs and its 100-epoch SGD recipe
# (batch 8x32, lr 0.1, x0.1 at 30, 60, 90).
_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py']
custom_imports = dict(imports=['kd_mmdet'], allow_failed_imports=False)


# The models of mmpretrain's resnet34_8xb32_in1k / resnet18_8xb32_in1k, written out: a
# `cfg_path=` model would ignore overrides such as KD's CE weight (mmengine's get_model
# passes them as defaults only).
def _resnet(depth):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=1000,
                               mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                               to_rgb=True),
        backbone=dict(type='ResNet', depth=depth, num_stages=4, out_indices=(3, ),
                      style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))


teacher = _resnet(34)
student = _resnet(18)
student_head = student['head']
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet34_8xb32_in1k_20210831-f257d4e6.pth'  # noqa: E501
teacher_channels = (64, 128, 256, 512)
student_channels = (64, 128, 256, 512)
num_classes = 1000
# Every method config of this pair starts from this algorithm (BLD changes its type).
model = dict(
    _delete_=True,  # not the ResNet-18 classifier of the base
    _scope_='mmrazor',
    type='kd_mmdet.SingleTeacherDistill',
    architecture=student,
    teacher=teacher,
    teacher_ckpt=teacher_ckpt)
find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
