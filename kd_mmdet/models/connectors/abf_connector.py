"""ReviewKD — Chen, Liu, Zhao, Jia, "Distilling Knowledge via Knowledge Review", CVPR 2021.
https://arxiv.org/abs/2104.09044

The review path: the student's multi-level features are fused from the deepest level up
by attention-based fusion (ABF) blocks, so that each output mixes its own level with all
deeper ones, and each output is matched to the teacher's map of the same level by
:class:`~kd_mmdet.models.losses.HCLLoss`. In detection the levels are the FPN outputs.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive
from kd_mmdet.registry import MODELS


class ABF(nn.Module):
    r"""Attention-based fusion block of ReviewKD (one level).

    .. math::
        x = \mathrm{BN}(W_{1\times1} F), \qquad
        z = \sigma(W_{att} [x, \uparrow r]) \in [0, 1]^{2 \times H \times W},

        x' = z_0 \odot x + z_1 \odot \uparrow r, \qquad
        \text{out} = \mathrm{BN}(W_{3\times3} x')

    where :math:`r` is the residual :math:`x'` of the next deeper level, upsampled
    (nearest) to this level's size; the deepest level has no fusion (:math:`x' = x`).

    Args:
        in_channels: channels of the student feature of this level.
        mid_channels: channels of the residual passed between levels.
        out_channels: channels of the output (the teacher's channels at this level).
        fuse: whether this level fuses a deeper residual (all but the deepest).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 fuse: bool) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(mid_channels))
        self.conv2 = nn.Sequential(
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.att_conv = nn.Sequential(nn.Conv2d(2 * mid_channels, 2, kernel_size=1),
                                      nn.Sigmoid()) if fuse else None
        # Official init of the two feature convs.
        nn.init.kaiming_uniform_(self.conv1[0].weight, a=1)
        nn.init.kaiming_uniform_(self.conv2[0].weight, a=1)

    def forward(self, feat: Tensor,
                residual: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Fuse one level.

        Args:
            feat: student feature, shape (N, in_channels, H, W).
            residual: residual of the deeper level, (N, mid_channels, h, w); required
                iff the block fuses.

        Returns:
            ``(out, residual)``: (N, out_channels, H, W) and (N, mid_channels, H, W).
        """
        x = self.conv1(feat)
        if self.att_conv is not None:
            residual = F.interpolate(residual, size=x.shape[-2:], mode='nearest')
            z = self.att_conv(torch.cat([x, residual], dim=1))
            x = x * z[:, 0:1] + residual * z[:, 1:2]
        return self.conv2(x), x


@MODELS.register_module()
class ReviewKDConnector(BaseConnector):
    """The whole ReviewKD review path over the FPN levels, as one connector.

    Takes the tuple of student FPN maps (shallow to deep, as mmdet's necks return them),
    runs the :class:`ABF` blocks from the deepest level up and returns the tuple of fused
    maps in the same order, each with the teacher's channels of its level. One connector
    holds all levels because every level depends on the deeper ones.

    In a ``ConfigurableDistiller`` config, a ``ModuleOutputs`` recorder on ``neck`` without
    ``data_idx`` delivers the whole tuple, and :class:`~kd_mmdet.models.losses.HCLLoss`
    takes tuples, so one loss covers all levels::

        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
            teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
            connectors=dict(review=dict(
                type='kd_mmdet.ReviewKDConnector',
                in_channels=[256] * 5, out_channels=256, mid_channels=256)),
            distill_losses=dict(
                loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=1.0)),
            loss_forward_mappings=dict(loss_reviewkd=dict(
                # no data_idx: the whole tuple of 5 levels
                preds_S=dict(from_student=True, recorder='fpn', connector='review'),
                preds_T=dict(from_student=False, recorder='fpn'))))

    Official detection setting (Faster R-CNN R101→R50/R18, FPN of 256 channels):
    in/mid/out channels 256, HCL weight 1.0 (R50) or 1.2 (R18).

    Args:
        in_channels: student channels of each level, shallow to deep.
        out_channels: teacher channels of each level, or one int for all levels.
        mid_channels: channels of the residual passed between levels.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Union[int, Sequence[int]],
                 mid_channels: int,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if isinstance(out_channels, int):
            out_channels = [out_channels] * len(in_channels)
        if len(in_channels) == 0 or len(out_channels) != len(in_channels):
            raise ValueError(f'ReviewKDConnector: in_channels {list(in_channels)} and '
                             f'out_channels {list(out_channels)} must be non-empty lists '
                             'of one length (one entry per level)')
        for i, (c_in, c_out) in enumerate(zip(in_channels, out_channels, strict=True)):
            check_positive(self, f'in_channels[{i}]', c_in)
            check_positive(self, f'out_channels[{i}]', c_out)
        check_positive(self, 'mid_channels', mid_channels)
        self.in_channels: List[int] = list(in_channels)
        self.out_channels: List[int] = list(out_channels)
        deepest = len(in_channels) - 1
        self.abfs = nn.ModuleList(
            ABF(c_in, mid_channels, c_out, fuse=i < deepest)
            for i, (c_in, c_out) in enumerate(zip(in_channels, out_channels, strict=True)))

    def forward_train(self, feature: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Args: feature: per-level student maps (N, in_channels[i], H_i, W_i), shallow
        to deep. Returns: per-level fused maps (N, out_channels[i], H_i, W_i)."""
        channels = [f.shape[1] if f.dim() == 4 else None for f in feature]
        if channels != self.in_channels:
            raise ValueError(f'ReviewKDConnector: expected {len(self.in_channels)} 4-d '
                             f'maps with channels {self.in_channels}, got shapes '
                             f'{[tuple(f.shape) for f in feature]}')
        outs: List[Tensor] = [None] * len(feature)  # type: ignore[list-item]
        residual = None
        for i in reversed(range(len(feature))):  # deepest level first
            outs[i], residual = self.abfs[i](feature[i], residual)
        return tuple(outs)
