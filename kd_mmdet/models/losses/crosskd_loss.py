"""The prediction-mimicking distances of CrossKD — Wang, Chen, Zheng, Li, Cheng, Hou,
"CrossKD: Cross-Head Knowledge Distillation for Object Detection", CVPR 2024.
https://arxiv.org/abs/2306.11369

CrossKD compares the teacher head's predictions on the student's head features with the
teacher's own predictions (:class:`kd_mmdet.CrossKDDistill` produces both). Two
distances are specific to it: a quality focal loss whose soft targets are the teacher's
class probabilities (classification), and the KL divergence between GFL's per-edge
box distributions summed over the bins (regression). Boxes are compared with mmdet's
``GIoULoss``. Both losses follow mmdet's ``weight`` / ``avg_factor`` conventions, so the
algorithm can pass the region weights and normalisers of the paper.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_reduction, check_same_shape
from kd_mmdet.registry import MODELS
from .kd_loss import kd_loss

MMDET_REDUCTIONS = ('none', 'mean', 'sum')


def kd_quality_focal_loss(pred: Tensor, soft_label: Tensor, beta: float = 1.0) -> Tensor:
    r"""Quality focal loss with the teacher's probabilities as targets, per element.

    .. math::
        \ell_{r,c} = \mathrm{BCE}\big(\sigma(x^S_{r,c}),\, \sigma(x^T_{r,c})\big)
            \,\big|\sigma(x^S_{r,c}) - \sigma(x^T_{r,c})\big|^{\beta}

    with :math:`\mathrm{BCE}(p, q) = -q\log p - (1-q)\log(1-p)`: GFL's quality focal
    loss (Li et al., NeurIPS 2020) with the teacher's sigmoid scores in place of the IoU
    targets. It is zero when the two scores are equal (for :math:`\beta > 0`), and the
    focal factor lets the many locations where both agree on "background" contribute
    little. CrossKD uses :math:`\beta = 1` (official configs). Computed in fp32.

    Args:
        pred: student (cross-head) class logits, shape (M, C).
        soft_label: teacher class logits, shape (M, C); no gradient flows into them.
        beta: focal exponent :math:`\beta` >= 0.

    Returns:
        Per-element loss, shape (M, C).
    """
    x = pred.float()
    target = soft_label.detach().float().sigmoid()
    bce = F.binary_cross_entropy_with_logits(x, target, reduction='none')
    return bce * (x.sigmoid() - target).abs().pow(beta)


def _reduce(loss: Tensor, weight: Optional[Tensor], reduction: str,
            avg_factor: Optional[float], owner: str) -> Tensor:
    """mmdet's ``weight_reduce_loss``: weight, then sum, mean or sum / avg_factor."""
    if weight is not None:
        loss = loss * weight
    if reduction == 'sum':
        if avg_factor is not None:
            raise ValueError(f'{owner}: avg_factor cannot be used with reduction="sum"')
        return loss.sum()
    if reduction == 'mean':
        if avg_factor is None:
            return loss.mean()
        # The eps keeps avg_factor = 0 (no positives in the batch) finite, as in mmdet.
        return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
    return loss


@MODELS.register_module()
class KDQualityFocalLoss(nn.Module):
    """Quality focal loss on the teacher's scores (:func:`kd_quality_focal_loss`).

    Args:
        beta: focal exponent, >= 0 (CrossKD: 1).
        loss_weight: multiplier, >= 0 (CrossKD: 1).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``, as in mmdet.
    """

    #: Arguments that must share one shape (checked at each call).
    same_shape_inputs = ('pred', 'soft_label')

    def __init__(self, beta: float = 1.0, loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        check_positive(self, 'beta', beta, allow_zero=True)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        check_reduction(self, reduction, MMDET_REDUCTIONS)
        self.beta = float(beta)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def forward(self, pred: Tensor, soft_label: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Args:
            pred, soft_label: (M, C) student / teacher class logits.
            weight: per-row weight (M,) or per-element weight (M, C).
            avg_factor: with ``'mean'``, the weighted sum is divided by it (CrossKD: the
                number of positive locations, the normaliser of the head's own loss).
            reduction_override: replaces ``reduction`` for this call.
        """
        check_same_shape(self, pred, soft_label, ndim=2)
        reduction = reduction_override or self.reduction
        check_reduction(self, reduction, MMDET_REDUCTIONS)
        if weight is not None:
            if weight.shape == pred.shape[:1]:
                weight = weight[:, None]
            elif weight.shape != pred.shape:
                raise ValueError(f'KDQualityFocalLoss: weight must have shape '
                                 f'({pred.size(0)},) or {tuple(pred.shape)} for pred '
                                 f'{tuple(pred.shape)}, got {tuple(weight.shape)}')
        loss = kd_quality_focal_loss(pred, soft_label, self.beta)
        return self.loss_weight * _reduce(loss, weight, reduction, avg_factor, 'KDQualityFocalLoss')


@MODELS.register_module()
class DistributionKLLoss(nn.Module):
    r"""KL divergence between two discrete distributions given by logits, summed over
    the bins: :math:`\tau^2\,\mathrm{KL}(\mathrm{softmax}(t/\tau) \,\|\,
    \mathrm{softmax}(s/\tau))` per row (:func:`kd_mmdet.models.losses.kd_loss`).

    For GFL's box-edge distributions (rows = 4 × locations, ``reg_max + 1`` bins). The
    sum over bins is what CrossKD's official configs use (``class_reduction='sum'``,
    T = 1, weight 4 on master, 3 on the 9f695b4e branch); :class:`kd_mmdet.LDLoss`
    averages over the bins instead, as LD's configs assume, so the two differ by the
    factor ``reg_max + 1``.

    Args:
        temperature: :math:`\tau` > 0 (CrossKD: 1).
        loss_weight: multiplier, >= 0.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``, as in mmdet.
    """

    #: Arguments that must share one shape (checked at each call).
    same_shape_inputs = ('pred', 'soft_label')

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        check_positive(self, 'temperature', temperature)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        check_reduction(self, reduction, MMDET_REDUCTIONS)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def forward(self, pred: Tensor, soft_label: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Args:
            pred, soft_label: (M, B) student / teacher logits over B bins.
            weight: optional per-row weight, shape (M,).
            avg_factor: with ``'mean'``, the weighted sum is divided by it.
            reduction_override: replaces ``reduction`` for this call.
        """
        check_same_shape(self, pred, soft_label, ndim=2)
        reduction = reduction_override or self.reduction
        check_reduction(self, reduction, MMDET_REDUCTIONS)
        if weight is not None and weight.shape != pred.shape[:1]:
            raise ValueError(f'DistributionKLLoss: weight must have shape ({pred.size(0)},) '
                             f'for pred {tuple(pred.shape)}, got {tuple(weight.shape)}')
        loss = kd_loss(pred, soft_label, self.temperature, reduction='none')
        return self.loss_weight * _reduce(loss, weight, reduction, avg_factor,
                                          'DistributionKLLoss')
