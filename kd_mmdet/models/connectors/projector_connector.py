"""Linear projector and affine-free BatchNorm — Miles, Mikolajczyk, "Understanding the
Role of the Projector in Knowledge Distillation", AAAI 2024.
https://arxiv.org/abs/2303.11098

The student's pooled features go through a linear map to the teacher's width and a
BatchNorm without affine parameters; the teacher's pooled features go through the same
kind of BatchNorm alone. Normalising both sides is what the paper finds essential (it
removes scale and shift the student could otherwise not match, and whitens per dimension);
the distance is then :class:`kd_mmdet.models.losses.LogSumLoss`. The connectors live in
the distiller and are dropped on export.
"""
from typing import Dict, Optional

from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from torch import Tensor, nn

from kd_mmdet.registry import MODELS


@MODELS.register_module()
class ProjectorBN(BaseConnector):
    """``BatchNorm1d(affine=False)(Linear(x))``, or the BatchNorm alone.

    Args:
        out_channels: output width (the teacher's feature width).
        in_channels: input width; ``None`` for the teacher's side (no projector).
        bias: whether the linear projector has a bias (it is removed by the BatchNorm
            anyway; the authors' ``nn.Linear`` has one).
        bn_eps: BatchNorm epsilon (authors: 1e-4).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, out_channels: int, in_channels: Optional[int] = None,
                 bias: bool = True, bn_eps: float = 1e-4,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        for arg, value in (('out_channels', out_channels), ('in_channels', in_channels)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f'ProjectorBN: {arg} must be an int >= 1, got {value!r}')
        self.in_channels = in_channels if in_channels is not None else out_channels
        self.projector = (nn.Linear(in_channels, out_channels, bias=bias)
                          if in_channels is not None else nn.Identity())
        self.bn = nn.BatchNorm1d(out_channels, eps=bn_eps, affine=False)

    def forward_train(self, feature: Tensor) -> Tensor:
        """Args: feature: (N, in_channels). Returns: (N, out_channels), normalised."""
        if feature.dim() != 2 or feature.size(1) != self.in_channels:
            raise ValueError(f'ProjectorBN: expected pooled features (N, {self.in_channels}), '
                             f'got {tuple(feature.shape)}')
        return self.bn(self.projector(feature))
