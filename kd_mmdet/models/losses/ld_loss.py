"""LD — Zheng, Ye, Wang, Ren, Zuo, Cheng, "Localization Distillation for Dense Object
Detection", CVPR 2022. https://arxiv.org/abs/2102.12252

A GFL head predicts each of the four box edges as a distribution over ``reg_max + 1`` bins;
the student's edge distributions match the teacher's, softened by a temperature. The head
applies it on the positive locations (``loss_ld``) and on the Valuable Localization Region
(``loss_ld_vlr``, see :mod:`kd_mmdet.models.utils.vlr`); the official code also uses it,
at T=2, for the class scores of the positives (``loss_kd``).
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_reduction, check_same_shape
from kd_mmdet.registry import MODELS

from .kd_loss import kl_rows

MMDET_REDUCTIONS = ('none', 'mean', 'sum')


def ld_loss(pred: Tensor, soft_label: Tensor, temperature: float = 10.0) -> Tensor:
    r"""Per-edge localization distillation, before weighting and reduction.

    .. math::
        \ell_m = \frac{\tau^2}{n + 1} \sum_{i=0}^{n}
            p^T_{m,i} \log \frac{p^T_{m,i}}{p^S_{m,i}},
        \qquad p_{m,i} = \frac{\exp(x_{m,i} / \tau)}{\sum_j \exp(x_{m,j} / \tau)}

    i.e. the KL divergence averaged (not summed) over the :math:`n + 1` bins: this is what
    the official code and mmdet 3.3's ``knowledge_distillation_kl_div_loss`` compute
    (``F.kl_div(...).mean(1)``), and the published weights (0.25 at :math:`\tau = 10`)
    assume it. Computed in fp32.

    Args:
        pred: student edge logits, shape (M, n + 1); M = 4 × locations for box edges.
        soft_label: teacher edge logits, shape (M, n + 1); detached.
        temperature: :math:`\tau` > 0 (official: 10 for edges, 2 for class scores).

    Returns:
        Per-edge loss, shape (M,).
    """
    log_p_S = F.log_softmax(pred.float() / temperature, dim=1)
    log_p_T = F.log_softmax(soft_label.detach().float() / temperature, dim=1)
    return kl_rows(log_p_T, log_p_S) * (temperature**2 / pred.size(1))


@MODELS.register_module()
class LDLoss(nn.Module):
    """Localization distillation loss with mmdet's ``weight`` / ``avg_factor`` conventions.

    Numerically equal to mmdet 3.3's ``KnowledgeDistillationKLDivLoss(T=temperature)``, so
    it can replace it in ``LDHead(loss_ld=dict(type='kd_mmdet.LDLoss'))``, which calls it
    with the student's max class score as ``weight`` and ``avg_factor=4``.

    Args:
        temperature: > 0. Official: 10 for ``loss_ld`` and ``loss_ld_vlr``, 2 for
            ``loss_kd`` (class scores).
        loss_weight: >= 0. Official: 0.25 for ``loss_ld`` and ``loss_ld_vlr``, 10 for
            ``loss_kd``.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``, as in mmdet.
    """
    # kd_mmdet.methods: mmdet's implementation of the same term
    upstream_types = ('KnowledgeDistillationKLDivLoss', )

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('pred', 'soft_label')
    #: Rows are box edges of the head's locations, so their number depends on the
    #: input: the dry run compares the bin dimension only.
    same_shape_start_dim = 1

    def __init__(self, temperature: float = 10.0, loss_weight: float = 0.25,
                 reduction: str = 'mean') -> None:
        super().__init__()
        check_positive(self, 'temperature', temperature)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        check_reduction(self, reduction, MMDET_REDUCTIONS)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def forward(self, pred: Tensor, soft_label: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Args:
            pred, soft_label: (M, n + 1) student / teacher edge logits.
            weight: optional per-edge weight, shape (M,).
            avg_factor: if given with ``'mean'``, the loss is summed and divided by it.
            reduction_override: replaces ``reduction`` for this call.
        """
        check_same_shape(self, pred, soft_label, ndim=2)
        reduction = reduction_override or self.reduction
        check_reduction(self, reduction, MMDET_REDUCTIONS)
        if weight is not None and weight.shape != pred.shape[:1]:
            raise ValueError(f'LDLoss: weight must have shape ({pred.size(0)},) for pred '
                             f'{tuple(pred.shape)}, got {tuple(weight.shape)}')
        if avg_factor is not None and reduction == 'sum':
            raise ValueError('LDLoss: avg_factor cannot be used with reduction="sum"')

        loss = ld_loss(pred, soft_label, self.temperature)
        if weight is not None:
            loss = loss * weight
        if reduction == 'sum':
            loss = loss.sum()
        elif reduction == 'mean':
            # mmdet's weight_reduce_loss: the eps keeps avg_factor=0 (no positives) finite
            loss = loss.mean() if avg_factor is None else (
                loss.sum() / (avg_factor + torch.finfo(torch.float32).eps))
        return self.loss_weight * loss
