"""KD — Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", NIPS 2014
Deep Learning Workshop (arXiv 2015). https://arxiv.org/abs/1503.02531

The student's class distribution, softened by a temperature, matches the teacher's. Applied
to classifier logits (CIFAR: T=4, ImageNet: T=1); in detection to RoI-head class logits.
This file also holds the row-wise KL and the per-sample reductions that DKD reuses.
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_reduction, check_same_shape
from kd_mmdet.registry import MODELS


BATCH_REDUCTIONS = ('batchmean', 'sum', 'none')


def kl_rows(log_p_T: Tensor, log_p_S: Tensor) -> Tensor:
    r"""Row-wise :math:`\mathrm{KL}(p_T \| p_S) = \sum_c p_{T,c}(\log p_{T,c} - \log p_{S,c})`.

    Args:
        log_p_T: teacher log-probabilities, shape (N, C).
        log_p_S: student log-probabilities, shape (N, C).

    Returns:
        Per-row divergence, shape (N,). Finite whenever both inputs are (a class the teacher
        gives probability 0 contributes 0, never ``0 * inf``).
    """
    return (log_p_T.exp() * (log_p_T - log_p_S)).sum(dim=1)


def reduce_batch(loss: Tensor, reduction: str) -> Tensor:
    """Reduce a per-sample loss of shape (N,): ``batchmean`` = sum / N, ``sum``, ``none``."""
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    return loss.sum() / max(loss.numel(), 1)


def batch_dot(a: Tensor, b: Tensor, reduction: str) -> Tensor:
    """Row sums of ``a * b`` for two (N, C) tensors, reduced like :func:`reduce_batch`.

    ``'sum'`` and ``'batchmean'`` are one dot product over all elements: no (N, C)
    product tensor, the backward keeps only ``a`` and ``b``, and it was the fastest form
    on CPU at every shape of benchmarks/cost.py (a fifth less peak memory than mmrazor's
    KLDivergence and DKDLoss there). Autocast is switched off around it, so the sum keeps
    the inputs' precision. ``'none'`` gives the (N,) row sums.
    """
    if reduction == 'none':
        return (a * b).sum(dim=1)
    with torch.autocast(a.device.type, enabled=False):
        total = torch.dot(a.reshape(-1), b.reshape(-1))
    return total if reduction == 'sum' else total / max(a.size(0), 1)


def kd_loss(preds_S: Tensor, preds_T: Tensor, temperature: float = 1.0,
            reduction: str = 'batchmean') -> Tensor:
    r"""Hinton's distillation loss between student and teacher logits.

    .. math::
        \mathcal{L} = \frac{T^2}{N} \sum_{n=1}^{N} \sum_{c=1}^{C}
            p^T_{n,c} \log \frac{p^T_{n,c}}{p^S_{n,c}},
        \qquad p_{n,c} = \frac{\exp(z_{n,c} / T)}{\sum_k \exp(z_{n,k} / T)}

    The :math:`T^2` keeps gradient magnitudes comparable across temperatures (paper, §2).
    Computed in fp32, so fp16/bf16 logits do not overflow the softmax.

    Args:
        preds_S: student logits :math:`z^S`, shape (N, C).
        preds_T: teacher logits :math:`z^T`, shape (N, C); no gradient flows into it.
        temperature: :math:`T` > 0 (CIFAR 4, ImageNet 1).
        reduction: ``'batchmean'`` (the formula above), ``'sum'`` (no :math:`1/N`) or
            ``'none'`` (per-sample loss, shape (N,)).

    Returns:
        Scalar loss, or shape (N,) for ``reduction='none'``.
    """
    log_p_S = F.log_softmax(preds_S.float() / temperature, dim=1)
    log_p_T = F.log_softmax(preds_T.detach().float() / temperature, dim=1)
    return batch_dot(log_p_T.exp(), log_p_T - log_p_S, reduction) * temperature**2


@MODELS.register_module()
class KDLoss(nn.Module):
    """Vanilla knowledge-distillation loss (module form for ``ConfigurableDistiller``).

    Args:
        temperature: softmax temperature, > 0. Paper settings: CIFAR-100 T=4 (with CE weight
            0.1, KD weight 0.9), ImageNet T=1 (0.5 / 0.5).
        loss_weight: multiplier of the loss, >= 0.
        reduction: ``'batchmean'`` (sum over classes and samples / N), ``'sum'`` or
            ``'none'`` (per-sample loss of shape (N,)).
    """
    # kd_mmdet.methods: mmrazor's implementation of the same loss
    upstream_types = ('KLDivergence', )

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('preds_S', 'preds_T')
    #: Rows are per sample, RoI or anchor, so their number depends on the input: the
    #: dry run compares the class dimension only.
    same_shape_start_dim = 1

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0,
                 reduction: str = 'batchmean') -> None:
        super().__init__()
        check_positive(self, 'temperature', temperature)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        check_reduction(self, reduction, BATCH_REDUCTIONS)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Args: preds_S, preds_T: (N, C) logits of the same shape."""
        check_same_shape(self, preds_S, preds_T, ndim=2)
        return self.loss_weight * kd_loss(preds_S, preds_T, self.temperature, self.reduction)
