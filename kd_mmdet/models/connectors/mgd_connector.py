"""MGD — Yang, Li, Shao, Shi, Yuan, Yuan, "Masked Generative Distillation", ECCV 2022.
https://arxiv.org/abs/2205.01529

The student half of MGD: align the student's channels to the teacher's, drop a random
fraction λ of the spatial positions (one mask per image, shared by all channels) and let a
conv3x3–ReLU–conv3x3 generator rebuild the teacher's feature. Its output is ``preds_S``
of :class:`~kd_mmdet.models.losses.MGDLoss`.
"""
from typing import Dict, Optional, Sequence

import torch
from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive
from kd_mmdet.registry import MODELS


def mgd_spatial_mask(shape: Sequence[int], lambda_mgd: float,
                     device: Optional[torch.device] = None) -> Tensor:
    r"""Random keep-mask of MGD: 0 on a fraction :math:`\lambda` of positions, else 1.

    .. math:: M_{n,1,h,w} = [u_{nhw} \le 1 - \lambda], \qquad u \sim U[0, 1)

    The draw (``torch.rand((N, 1, H, W))``) and the threshold are mmrazor 1.0's, so on CPU
    the same seed gives the same mask (on GPU we draw from the device's generator).

    Args:
        shape: (N, C, H, W) of the feature to mask; C is ignored.
        lambda_mgd: fraction of positions to drop, in [0, 1).
        device: device of the mask.

    Returns:
        Float mask of shape (N, 1, H, W).
    """
    N, _, H, W = shape
    u = torch.rand((N, 1, H, W), device=device)
    return (u <= 1 - lambda_mgd).float()


@MODELS.register_module()
class MGDConnector(BaseConnector):
    """Align, mask and generate: the student branch of MGD (for ``ConfigurableDistiller``).

    Same layers and parameter names (``align``, ``generation``) as mmrazor 1.0's
    ``MGDConnector``, so their state dicts are interchangeable. Unlike mmrazor's, the
    mask is applied only in training mode; in eval mode the whole feature is used.

    In a config, one connector (its own generator) and one loss per FPN level::

        levels = range(5)  # P3..P7 of RetinaNet; Faster R-CNN: 4 levels, λ=0.45, α=5e-7
        distiller=dict(
            type='kd_mmdet.ConfigurableDistiller',
            student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
            teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
            connectors={f'mgd{i}': dict(type='kd_mmdet.MGDConnector', student_channels=256,
                                        teacher_channels=256, lambda_mgd=0.65)
                        for i in levels},
            distill_losses={f'loss_mgd_fpn{i}': dict(type='kd_mmdet.MGDLoss', alpha_mgd=2e-5)
                            for i in levels},
            loss_forward_mappings={f'loss_mgd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i,
                             connector=f'mgd{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
                for i in levels})

    Args:
        student_channels: channels of the student map; a 1x1 align conv maps them to
            ``teacher_channels`` when they differ.
        teacher_channels: channels of the teacher map (and of the output).
        lambda_mgd: fraction λ of positions dropped, in [0, 1) (0.65 for RetinaNet /
            RepPoints, 0.45 for Faster / Mask R-CNN; official configs).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 lambda_mgd: float = 0.65,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        check_positive(self, 'student_channels', student_channels)
        check_positive(self, 'teacher_channels', teacher_channels)
        if not (isinstance(lambda_mgd, (int, float)) and 0 <= lambda_mgd < 1):
            raise ValueError(f'MGDConnector: lambda_mgd (fraction of positions dropped) '
                             f'must be in [0, 1), got {lambda_mgd!r}')
        self.student_channels = int(student_channels)
        self.lambda_mgd = float(lambda_mgd)
        self.align = (nn.Conv2d(student_channels, teacher_channels, kernel_size=1)
                      if student_channels != teacher_channels else None)
        self.generation = nn.Sequential(
            nn.Conv2d(teacher_channels, teacher_channels, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(teacher_channels, teacher_channels, kernel_size=3, padding=1))

    def forward_train(self, feature: Tensor) -> Tensor:
        """Args: feature: student map (N, C_s, H, W). Returns: (N, C_t, H, W)."""
        if feature.dim() != 4 or feature.shape[1] != self.student_channels:
            raise ValueError(f'MGDConnector: expected a student map (N, '
                             f'{self.student_channels}, H, W), got {tuple(feature.shape)}')
        if self.align is not None:
            feature = self.align(feature)
        if self.training:
            feature = feature * mgd_spatial_mask(feature.shape, self.lambda_mgd,
                                                 feature.device).to(feature.dtype)
        return self.generation(feature)
