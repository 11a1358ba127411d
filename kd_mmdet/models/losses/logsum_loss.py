"""LogSum distance — Miles, Mikolajczyk, "Understanding the Role of the Projector in
Knowledge Distillation", AAAI 2024. https://arxiv.org/abs/2303.11098

The "simple recipe": pooled last-stage features of the student pass a linear projector
to the teacher's width, both sides are batch-normalised without affine parameters
(:class:`kd_mmdet.models.connectors.ProjectorBN`), and the two are compared with the
LogSum distance below; KD on the logits (T = 1) and the task cross-entropy are added.
"""
import torch
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_same_shape
from kd_mmdet.registry import MODELS



def logsum_loss(preds_S: Tensor, preds_T: Tensor, alpha: float = 4.0,
                eps: float = 1e-12) -> Tensor:
    r"""LogSum distance between two batches of features.

    .. math::
        D(Z_S, Z_T) = \log \sum_{n=1}^{N} \sum_{i=1}^{D} |Z_{S,n,i} - Z_{T,n,i}|^{\alpha}

    summed over the whole batch, as in the authors' code (``log(|f_s - f_t|^4 .sum())``).
    :math:`\alpha` smooths towards the maximum: large :math:`\alpha` makes :math:`D`
    close to :math:`\alpha \log \max |Z_S - Z_T|`. Because of the log, the gradient is
    invariant to the overall scale of the difference (each element weighs
    :math:`\alpha |d|^{\alpha - 1} / \sum |d|^\alpha`), so the loss may be negative and
    only its changes matter. Computed as ``logsumexp(α · log |d|)``, so it neither
    overflows nor underflows for large or tiny differences; ``|d|`` is clamped at
    ``eps`` so that identical inputs give a finite value and a zero gradient.

    Args:
        preds_S: student features (after projector and normalisation), shape (N, D) or
            any shape equal to the teacher's.
        preds_T: teacher features (normalised), same shape; no gradient flows into it.
        alpha: exponent :math:`\alpha` > 0 (official 4).
        eps: lower clamp of :math:`|d|`, > 0.

    Returns:
        Scalar distance.
    """
    diff = (preds_S.float() - preds_T.detach().float()).abs().clamp_min(eps)
    return torch.logsumexp(alpha * diff.log().flatten(), dim=0)


@MODELS.register_module()
class LogSumLoss(nn.Module):
    """LogSum feature distance (module form for ``ConfigurableDistiller``).

    Args:
        alpha: exponent α > 0 (official 4).
        eps: lower clamp of ``|student - teacher|``, > 0.
        loss_weight: multiplier, >= 0 (official 2: their code returns ``2 * log(...)``).
    """

    #: Arguments that must share one shape (checked by the distiller's dry run).
    same_shape_inputs = ('preds_S', 'preds_T')

    def __init__(self, alpha: float = 4.0, eps: float = 1e-12, loss_weight: float = 1.0
                 ) -> None:
        super().__init__()
        check_positive(self, 'alpha', alpha)
        check_positive(self, 'eps', eps)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.loss_weight = float(loss_weight)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Args: preds_S, preds_T: features of one shape, e.g. (N, D)."""
        check_same_shape(self, preds_S, preds_T)
        return self.loss_weight * logsum_loss(preds_S, preds_T, self.alpha, self.eps)
