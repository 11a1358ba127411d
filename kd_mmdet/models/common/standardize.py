"""Per-channel standardisation of feature maps, shared by the methods that compare or
align features by their channel statistics: PKD (Cao et al., NeurIPS 2022,
https://arxiv.org/abs/2207.02039) standardises both maps before its MSE; CrossKD (Wang
et al., CVPR 2024, https://arxiv.org/abs/2306.11369) gives the student's feature the
teacher's per-channel statistics before the teacher's head layers.
"""
from torch import Tensor

#: Added to the standard deviation before dividing by it, as in mmrazor 1.0's PKDLoss.
STD_EPS = 1e-6
# Below this variance the square root is clamped: its derivative stays finite, and the
# value it changes (at most 1e-15) is far below STD_EPS.
_MIN_VAR = 1e-30


def standardize_channels(feat: Tensor, per_image: bool = False, eps: float = STD_EPS) -> Tensor:
    r"""Standardise every channel of a feature map.

    .. math::
        \hat F_{c} = \frac{F_{c} - \mu_c}{\sigma_c + \epsilon},\qquad
        \mu_c = \frac{1}{M}\sum_{i} F_{c,i},\qquad
        \sigma_c = \sqrt{\frac{1}{M - 1}\sum_{i} (F_{c,i} - \mu_c)^2}

    where :math:`i` runs over the :math:`M = N H W` elements of channel :math:`c` in the
    whole batch (mmrazor 1.0 and the CrossKD code pool the batch), or over the
    :math:`M = H W` positions of one image with ``per_image``. :math:`\sigma_c` is the
    unbiased (``torch.std``) estimate and :math:`\epsilon` is added to it, not to the
    variance, as mmrazor does. A constant channel normalises to zeros, with a finite
    gradient (the square root is clamped at a variance of 1e-30, where its derivative
    would be infinite); like mmrazor's, that gradient carries the factor
    :math:`1/\epsilon`. Where mmrazor divides by zero we do not: a channel with
    :math:`M = 1` has :math:`\sigma_c = 0` here (``torch.std`` gives NaN, and so does
    mmrazor's loss). Computed in fp32.

    Args:
        feat: feature map, shape (N, C, H, W).
        per_image: normalise each image's channels over their own H·W positions instead
            of over the batch (the loss of one image then does not depend on the others).
        eps: added to :math:`\sigma_c`, > 0.

    Returns:
        The standardised map, shape (N, C, H, W), float32.
    """
    x = feat.float()
    dims = (2, 3) if per_image else (0, 2, 3)
    count = x.numel() // (x.shape[1] * (x.shape[0] if per_image else 1))
    centered = x - x.mean(dim=dims, keepdim=True)
    var = centered.pow(2).sum(dim=dims, keepdim=True) / max(count - 1, 1)
    std = var.clamp(min=_MIN_VAR).sqrt()
    return centered / (std + eps)
