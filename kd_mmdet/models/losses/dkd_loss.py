"""DKD — Zhao, Cui, Song, Qiu, Liang, "Decoupled Knowledge Distillation", CVPR 2022.
https://arxiv.org/abs/2203.08679

Classical KD splits into a target-class term (TCKD: does the student share the teacher's
confidence in the labelled class?) and a non-target term (NCKD: does it rank the other
classes like the teacher?), which DKD weights separately. Applied to classifier logits;
in detection to the RoI-head class logits (background included), with the teacher's RoI
head run on the student's sampled proposals so both see the same RoIs.
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import (check_labels, check_positive, check_reduction,
                                           check_same_shape)
from kd_mmdet.registry import MODELS

from .kd_loss import BATCH_REDUCTIONS, batch_dot, kl_rows, reduce_batch


def _split_target(z: Tensor, labels: Tensor, gt_mask: Tensor) -> tuple[Tensor, Tensor]:
    """Logits (N, C) -> (target logit (N,), log-sum-exp of the non-target logits (N,)).

    A gather and a masked fill rather than boolean indexing (``z[gt_mask]``), which goes
    through ``nonzero`` and made the loss 4x slower than mmrazor's on CPU at 256 x 1000.
    """
    z_target = z.gather(1, labels[:, None]).squeeze(1)
    lse_other = torch.logsumexp(z.masked_fill(gt_mask, float('-inf')), dim=1)
    return z_target, lse_other


def _log_binary(z_target: Tensor, lse_other: Tensor) -> Tensor:
    """log b = [log p_t, log(1 - p_t)] of softmax(z), shape (N, 2), without forming 1 - p_t.

    ``log(1 - p_t)`` is the log-sum-exp of the non-target logits minus that of all logits,
    which stays finite when :math:`p_t` rounds to 1 (the official ``log(cat(...))`` gives
    ``-inf`` there, and an infinite loss at logits of ±1e4). The log-sum-exp of all logits
    is ``logaddexp(z_t, lse_other)``: no second pass over the (N, C) logits.
    """
    log_norm = torch.logaddexp(z_target, lse_other)
    return torch.stack([z_target - log_norm, lse_other - log_norm], 1)


def dkd_loss(preds_S: Tensor, preds_T: Tensor, gt_labels: Tensor, temperature: float = 1.0,
             reduction: str = 'batchmean') -> tuple[Tensor, Tensor]:
    r"""The two decoupled terms of KD, TCKD and NCKD.

    With :math:`p = \mathrm{softmax}(z / T)` over the C classes, :math:`t` the label,
    :math:`b = [p_t,\ 1 - p_t]` and :math:`\hat p_c = p_c / (1 - p_t)` for :math:`c \ne t`
    (the softmax over the non-target classes only):

    .. math::
        \mathrm{TCKD} = \frac{T^2}{N} \sum_n \mathrm{KL}(b^T_n \| b^S_n), \qquad
        \mathrm{NCKD} = \frac{T^2}{N} \sum_n \mathrm{KL}(\hat p^T_n \| \hat p^S_n)

    and per sample :math:`\mathrm{KD} = \mathrm{TCKD} + (1 - p^T_t)\,\mathrm{NCKD}`
    (paper, eq. 1). The official code (and mmrazor 1.0) masks the target by subtracting
    1000 from its logit before the softmax; here the target is excluded exactly (its
    weight in the non-target softmax is 0), which equals it for ordinary logits and stays
    exact when :math:`|z/T|` nears 1000.
    Computed in fp32, so fp16/bf16 logits neither overflow nor lose the mask.

    Args:
        preds_S: student logits, shape (N, C), C >= 2.
        preds_T: teacher logits, shape (N, C); no gradient flows into it.
        gt_labels: target class of each row, integer tensor with N elements, in [0, C).
            For RoI heads, background is class ``num_classes`` of ``num_classes + 1``.
        temperature: :math:`T` > 0 (CIFAR 4; ImageNet and detection 1).
        reduction: ``'batchmean'`` (sum / N, the paper's), ``'sum'`` or ``'none'`` (N,).

    Returns:
        ``(tckd, nckd)``, each already multiplied by :math:`T^2` and reduced.
    """
    labels = gt_labels.reshape(-1).long()
    gt_mask = F.one_hot(labels, preds_S.size(1)).bool()
    s, t = preds_S.float(), preds_T.detach().float()
    # Both terms are softmaxes of each row, unchanged by subtracting a constant from it.
    # Subtracting the row's largest non-target logit first keeps the log-probabilities
    # exact for logits far from 0: at -1e4 / T the float32 spacing is 2e-4, and
    # z - logsumexp(z) lost that much, giving KL(p || p) = -4e-4 for two uniform rows
    # (found by tests/models/losses/test_loss_properties.py). Not the row's maximum: an
    # extreme target logit would then push the non-target ones, all NCKD sees, far from
    # 0. The shift is a constant for the gradient.
    s = s - s.masked_fill(gt_mask, float('-inf')).amax(1, keepdim=True).detach()
    t = t - t.masked_fill(gt_mask, float('-inf')).amax(1, keepdim=True)
    if temperature != 1:  # at T = 1 (ImageNet, detection) no further copies
        s, t = s / temperature, t / temperature
    s_target, s_other = _split_target(s, labels, gt_mask)
    t_target, t_other = _split_target(t, labels, gt_mask)

    tckd = kl_rows(_log_binary(t_target, t_other), _log_binary(s_target, s_other))
    # Softmax over the non-target classes, log q_c = z_c - logsumexp_{k != t} z_k. The
    # target column is kept (finite, whatever its logit) and weighted by q^T_t = 0.
    # log q^T - log q^S and q^T are built in place, one (N, C) tensor each (peak memory
    # under mmrazor's, benchmarks/cost.py).
    log_ratio = (t - s).sub_((t_other - s_other)[:, None])
    q_T = (t - t_other[:, None]).masked_fill_(gt_mask, float('-inf')).exp_()
    nckd = batch_dot(q_T, log_ratio, reduction)

    scale = temperature**2
    return reduce_batch(tckd * scale, reduction), nckd * scale


def dkd_warmup_factor(epoch: float, warmup_epochs: float) -> float:
    """Linear warm-up of the DKD weight: ``min(epoch / warmup_epochs, 1)``.

    The official code uses 20 epochs on CIFAR with a 1-based epoch counter; mmengine's
    ``runner.epoch`` is 0-based, so pass ``runner.epoch + 1`` to reproduce it. A warm-up of
    0 epochs means no warm-up (factor 1).
    """
    check_positive('dkd_warmup_factor', 'epoch', epoch, allow_zero=True)
    check_positive('dkd_warmup_factor', 'warmup_epochs', warmup_epochs, allow_zero=True)
    if warmup_epochs == 0:
        return 1.0
    return min(epoch / warmup_epochs, 1.0)


@MODELS.register_module()
class DKDLoss(nn.Module):
    """Decoupled KD loss, ``loss_weight * (alpha * TCKD + beta * NCKD)``.

    ``reduction`` is honoured; ``'batchmean'`` (the paper's) equals mmrazor 1.0's
    ``DKDLoss`` at its default. mmrazor passes the legacy ``size_average=False`` to
    ``F.kl_div``, so its ``'none'`` and ``'mean'`` silently return the batch sum.

    Args:
        alpha: weight of TCKD, >= 0. Official: 1 everywhere.
        beta: weight of NCKD, >= 0. Official: CIFAR 8 (2 for res56/res110 teachers, 6 for
            VGG/WRN), ImageNet 0.5, Faster R-CNN RoI head 0.25.
        temperature: > 0. Official: CIFAR 4, ImageNet 1, detection 1.
        loss_weight: multiplier of the loss, >= 0 (a warm-up hook may scale it over time,
            see :func:`dkd_warmup_factor`).
        reduction: ``'batchmean'``, ``'sum'`` or ``'none'`` (per-sample loss, shape (N,)).
        return_terms: return ``{'tckd': ..., 'nckd': ...}`` (weighted, summing to the
            loss) instead of their sum, so that ``kd_mmdet.ConfigurableDistiller`` logs
            them as ``<loss name>_tckd`` / ``<loss name>_nckd``.
    """
    # kd_mmdet.methods: mmrazor's implementation of the same loss
    upstream_types = ('DKDLoss', )

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('preds_S', 'preds_T')
    #: Rows are per sample, RoI or anchor, so their number depends on the input: the
    #: dry run compares the class dimension only.
    same_shape_start_dim = 1

    def __init__(self, alpha: float = 1.0, beta: float = 8.0, temperature: float = 4.0,
                 loss_weight: float = 1.0, reduction: str = 'batchmean',
                 return_terms: bool = False) -> None:
        super().__init__()
        check_positive(self, 'alpha', alpha, allow_zero=True)
        check_positive(self, 'beta', beta, allow_zero=True)
        check_positive(self, 'temperature', temperature)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        check_reduction(self, reduction, BATCH_REDUCTIONS)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction
        self.return_terms = bool(return_terms)

    def forward(self, preds_S: Tensor, preds_T: Tensor, gt_labels: Tensor,
                return_terms: bool | None = None) -> Tensor | dict[str, Tensor]:
        """Args:
            preds_S, preds_T: (N, C) logits of the same shape.
            gt_labels: integer labels with N elements, in [0, C).
            return_terms: overrides the constructor's ``return_terms`` for this call:
                True gives ``{'tckd': w*alpha*TCKD, 'nckd': w*beta*NCKD}``, which sum to
                the usual loss.
        """
        check_same_shape(self, preds_S, preds_T, ndim=2)
        self._check_labels(preds_S, gt_labels)
        tckd, nckd = dkd_loss(preds_S, preds_T, gt_labels, self.temperature, self.reduction)
        tckd = self.loss_weight * self.alpha * tckd
        nckd = self.loss_weight * self.beta * nckd
        if self.return_terms if return_terms is None else return_terms:
            return {'tckd': tckd, 'nckd': nckd}
        return tckd + nckd

    def _check_labels(self, preds_S: Tensor, gt_labels: Tensor) -> None:
        if preds_S.shape[1] < 2:
            raise ValueError(f'{type(self).__name__}: needs at least 2 classes, got logits '
                             f'{tuple(preds_S.shape)}')
        check_labels(self, preds_S, gt_labels)
