"""The training-only classifier branches of OFA — Hao et al., "One-for-All: Bridge the Gap
Between Heterogeneous Architectures in Knowledge Distillation", NeurIPS 2023.
https://arxiv.org/abs/2310.19444

Each chosen student stage gets a branch: depthwise-separable stride-2 blocks down to the
last stage's resolution (doubling the channels, the last block widening to
``max(student, teacher)`` final width), global average pooling and a linear classifier.
Its logits are distilled from the teacher's final logits with
:class:`kd_mmdet.models.losses.OFALoss`. The branches live in the distiller, so they
are not part of the student: ``tools/export_student.py`` drops them with the teacher.
"""
from typing import Dict, Optional

from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive
from kd_mmdet.registry import MODELS



class SepConvBlock(nn.Sequential):
    """Two depthwise-separable 3×3 convolutions (the first with ``stride``), each followed
    by a 1×1 convolution, BatchNorm and ReLU (OFA's ``SepConv``, from DARTS)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, in_channels, 3, 1, 1, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU())


@MODELS.register_module()
class OFABranch(BaseConnector):
    """Student stage features → logits, for OFA's stage-wise distillation.

    Args:
        in_channels: channels of the student stage.
        out_channels: width before the classifier; official: ``max`` of the student's and
            the teacher's final feature widths.
        num_classes: classes of the logits.
        num_downsample: stride-2 blocks, the number of stages after this one (official
            ``4 - stage`` for four-stage CNNs). Each block doubles the channels, the last
            one maps to ``out_channels``. With 0 (the last stage) a 1×1 convolution maps
            ``in_channels`` to ``out_channels``.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, in_channels: int, out_channels: int, num_classes: int,
                 num_downsample: int, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        for arg in ('in_channels', 'out_channels', 'num_classes'):
            value = locals()[arg]
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'OFABranch: {arg} must be an int >= 1, got {value!r}')
        if not isinstance(num_downsample, int) or num_downsample < 0:
            raise ValueError(f'OFABranch: num_downsample must be an int >= 0, got '
                             f'{num_downsample!r}')
        check_positive(self, 'num_classes', num_classes)
        self.in_channels = in_channels
        blocks = []
        channels = in_channels
        for i in range(num_downsample):
            out = out_channels if i == num_downsample - 1 else channels * 2
            blocks.append(SepConvBlock(channels, out))
            channels = out
        if not blocks:
            blocks.append(nn.Conv2d(in_channels, out_channels, 1))
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(out_channels, num_classes)

    def forward_train(self, feature: Tensor) -> Tensor:
        """Args: feature: (N, in_channels, H, W). Returns: logits (N, num_classes)."""
        if feature.dim() != 4 or feature.size(1) != self.in_channels:
            raise ValueError(f'OFABranch: expected (N, {self.in_channels}, H, W) stage '
                             f'features, got {tuple(feature.shape)}')
        return self.fc(self.pool(self.blocks(feature)).flatten(1))
