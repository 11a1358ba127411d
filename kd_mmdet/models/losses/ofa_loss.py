"""OFA — Hao, Guo, Chen, Han, Wang, Xu, Xu, "One-for-All: Bridge the Gap Between
Heterogeneous Architectures in Knowledge Distillation", NeurIPS 2023.
https://arxiv.org/abs/2310.19444

The target-enhanced distillation loss: KD's cross-entropy to the teacher's distribution,
with the weight of the labelled class raised by an exponent ε, so the student is pushed
harder towards the target where the teacher is confident. OFA applies it to the
student's logits and to the logits of extra branches (student stage → projector →
classifier, :class:`kd_mmdet.models.connectors.OFABranch`), all against the teacher's
final logits; the branches exist in training only.
"""
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import (check_labels, check_positive, check_reduction,
                                           check_same_shape)
from kd_mmdet.registry import MODELS

from .kd_loss import BATCH_REDUCTIONS, reduce_batch


def ofa_loss(preds_S: Tensor, preds_T: Tensor, gt_labels: Tensor, eps: float = 1.0,
             temperature: float = 1.0, reduction: str = 'batchmean') -> Tensor:
    r"""Target-enhanced OFA loss between student and teacher logits.

    With :math:`p = \mathrm{softmax}(z / T)`, :math:`t` the label and :math:`\mathbb 1_t`
    its one-hot vector:

    .. math::
        \mathcal{L} = -\frac{1}{N} \sum_n \sum_c
            \bigl[(p^T_{n,c} + \mathbb 1_{t_n,c})^{\varepsilon} - \mathbb 1_{t_n,c}\bigr]
            \log p^S_{n,c}
        = -\frac{1}{N} \sum_n \Bigl[\bigl((1 + p^T_{t})^{\varepsilon} - 1\bigr) \log p^S_t
            + \sum_{c \ne t} (p^T_c)^{\varepsilon} \log p^S_c\Bigr]

    This is the official code's form (``ofa_loss`` in the authors' repository). The paper
    writes :math:`-(1 + p^T_t)^\gamma \log p^S_t - \sum_{c \ne t} p^T_c \log p^S_c`:
    the official form plus the cross-entropy to the label (which the official code adds
    as a separate term), with the non-target weights :math:`p^T_c` in place of
    :math:`(p^T_c)^\varepsilon` (equal at :math:`\varepsilon = 1`).
    At :math:`\varepsilon = 1` the loss is :math:`-\sum_c p^T_c \log p^S_c
    = \mathrm{KL}(p^T \| p^S) + H(p^T)`, i.e. KD without the :math:`T^2` factor, up to
    the teacher's entropy, which does not depend on the student (the constant the paper
    notes). :math:`\varepsilon > 1` enhances the target (ImageNet CNNs 1.5) and
    lowers the non-target weights.
    No :math:`T^2` factor, as in the official code (which uses T = 1).

    Computed in fp32 with ``log_softmax``, so saturated logits give finite values.

    Args:
        preds_S: student (or branch) logits, shape (N, C).
        preds_T: teacher logits, shape (N, C); no gradient flows into it.
        gt_labels: target class of each row, integer tensor with N elements, in [0, C).
        eps: exponent :math:`\varepsilon` > 0 (official: CIFAR 1.0, ImageNet CNNs 1.5).
        temperature: :math:`T` > 0 of both softmaxes (official: 1).
        reduction: ``'batchmean'`` (the formula), ``'sum'`` or ``'none'`` (shape (N,)).

    Returns:
        Scalar loss, or shape (N,) for ``reduction='none'``.
    """
    log_p_S = F.log_softmax(preds_S.float() / temperature, dim=1)
    p_T = F.softmax(preds_T.detach().float() / temperature, dim=1)
    target = F.one_hot(gt_labels.reshape(-1).long(), preds_S.size(1)).float()
    weight = (p_T + target).pow(eps) - target
    return reduce_batch(-(weight * log_p_S).sum(dim=1), reduction)


@MODELS.register_module()
class OFALoss(nn.Module):
    """Target-enhanced OFA loss (module form for ``ConfigurableDistiller``).

    Args:
        eps: exponent ε of the target weight, > 0. Official: CIFAR 1.0, ImageNet CNN
            pairs 1.5 (ε = 1 is KD at ``temperature`` up to a constant).
        temperature: softmax temperature, > 0 (official: 1).
        loss_weight: multiplier of the loss, >= 0 (official ``ofa_loss_weight`` 1 for
            branches, ``kd_loss_weight`` 1 for the final logits).
        reduction: ``'batchmean'``, ``'sum'`` or ``'none'`` (per-sample loss, shape (N,)).
    """

    #: Arguments that must share one shape (checked by the distiller's dry run); the
    #: rows are per sample, so only the class dimension is compared.
    same_shape_inputs = ('preds_S', 'preds_T')
    same_shape_start_dim = 1

    def __init__(self, eps: float = 1.0, temperature: float = 1.0, loss_weight: float = 1.0,
                 reduction: str = 'batchmean') -> None:
        super().__init__()
        check_positive(self, 'eps', eps)
        check_positive(self, 'temperature', temperature)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        check_reduction(self, reduction, BATCH_REDUCTIONS)
        self.eps = float(eps)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def forward(self, preds_S: Tensor, preds_T: Tensor, gt_labels: Tensor) -> Tensor:
        """Args: preds_S, preds_T: (N, C) logits; gt_labels: N integer labels in [0, C)."""
        check_same_shape(self, preds_S, preds_T, ndim=2)
        check_labels(self, preds_S, gt_labels)
        return self.loss_weight * ofa_loss(preds_S, preds_T, gt_labels, self.eps,
                                           self.temperature, self.reduction)
