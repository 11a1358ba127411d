"""The CIFAR ResNets of He et al. ("Deep Residual Learning for Image Recognition", CVPR
2016, sec. 4.2) in the widened form that distillation papers use as their standard pair,
ResNet32×4 → ResNet8×4 (CRD, Tian et al. ICLR 2020; DKD, Zhao et al. CVPR 2022; the
mdistiller code base).

Depth 6n + 2: a 3×3 stem, then three stages of n BasicBlocks at strides 1, 2, 2 — not
mmpretrain's ``ResNet_CIFAR``, which is the four-stage ImageNet ResNet-18/34/50 with a
3×3 stem. "×4" means four times the original widths: stem 32, stages 64, 128, 256
(``stem_channels=32, base_channels=64``); the original ResNet-20/56/110 are 16 and 16.
"""
from mmpretrain.models.backbones import ResNet_CIFAR
from mmpretrain.models.backbones.resnet import BasicBlock

from kd_mmdet.registry import MODELS


@MODELS.register_module()
class CifarResNet(ResNet_CIFAR):
    """Three-stage CIFAR ResNet of depth 6n + 2 (8, 14, 20, 32, 44, 56, 110).

    Stage ``i`` has ``base_channels * 2**i`` channels; the output of the last stage is at
    1/4 of the input resolution (8×8 for CIFAR's 32×32).

    Args:
        depth: 6n + 2, one of the keys of ``arch_settings``.
        stem_channels: channels of the 3×3 stem (32 for the ×4 models, 16 originally).
        base_channels: channels of the first stage (64 for ×4, 16 originally).
        num_stages: 3 (fewer keeps the first stages only).
        strides: stride of the first block of each stage.
        dilations: dilation of each stage.
        out_indices: stages whose outputs the backbone returns, as a tuple.
        **kwargs: the rest of mmpretrain's ``ResNet`` arguments (``norm_cfg``, …).
    """

    arch_settings = {depth: (BasicBlock, ((depth - 2) // 6, ) * 3)
                     for depth in (8, 14, 20, 32, 44, 56, 110)}

    def __init__(self, depth: int, stem_channels: int = 16, base_channels: int = 16,
                 num_stages: int = 3, strides=(1, 2, 2), dilations=(1, 1, 1),
                 out_indices=(2, ), **kwargs) -> None:
        if depth not in self.arch_settings:
            raise ValueError(f'CifarResNet: depth must be one of '
                             f'{sorted(self.arch_settings)} (6n + 2), got {depth!r}')
        super().__init__(depth, stem_channels=stem_channels, base_channels=base_channels,
                         num_stages=num_stages, strides=strides, dilations=dilations,
                         out_indices=out_indices, **kwargs)
