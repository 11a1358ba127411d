"""ReviewKD — Chen, Liu, Zhao, Jia, "Distilling Knowledge via Knowledge Review", CVPR 2021.
https://arxiv.org/abs/2104.09044

The hierarchical context loss (HCL) of ReviewKD: at each level, the squared error at full
resolution plus the squared errors after average pooling to 4x4, 2x2 and 1x1, so that
coarse context is matched too. Its student input is the output of
:class:`~kd_mmdet.models.connectors.ReviewKDConnector`; in detection the levels are the
FPN outputs.
"""
from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_same_shape
from kd_mmdet.registry import MODELS

Maps = Union[Tensor, Sequence[Tensor]]


def _as_levels(preds_S: Maps, preds_T: Maps) -> Tuple[List[Tensor], List[Tensor]]:
    """Single maps become one-level lists."""
    if isinstance(preds_S, Tensor):
        return [preds_S], [preds_T]
    return list(preds_S), list(preds_T)


def _describe(preds: Maps) -> str:
    if isinstance(preds, Tensor):
        return str(tuple(preds.shape))
    return f'{len(preds)} levels'


def hcl_level_loss(preds_S: Tensor, preds_T: Tensor,
                   pool_sizes: Sequence[int] = (4, 2, 1)) -> Tensor:
    r"""HCL of one level.

    .. math::
        \mathcal{L} = \frac{\sum_{k=0}^{K} w_k\,
            \operatorname{MSE}\big(P_{l_k}(S), P_{l_k}(T)\big)}{\sum_{k=0}^{K} w_k},
        \qquad w_k = 2^{-k}

    with :math:`P_{l_0}` the identity (full resolution), :math:`P_l` adaptive average
    pooling to :math:`l \times l`, and MSE the mean over all elements. As in the official
    code, a pool size :math:`l \ge H` is skipped (it would not coarsen the map) and the
    weights halve over the sizes actually used: (1, 0.5, 0.25, 0.125) for H > 4.

    Args:
        preds_S: student map (after the ABF path), shape (N, C, H, W).
        preds_T: teacher map, shape (N, C, H, W); no gradient flows into it.
        pool_sizes: the pooled sizes :math:`l_1, l_2, \dots` (official: 4, 2, 1).

    Returns:
        Scalar loss.
    """
    s, t = preds_S.float(), preds_T.detach().float()
    H = s.shape[2]
    loss, weight, total = F.mse_loss(s, t), 1.0, 1.0
    for size in pool_sizes:
        if size >= H:
            continue
        weight /= 2
        total += weight
        loss = loss + weight * F.mse_loss(F.adaptive_avg_pool2d(s, size),
                                          F.adaptive_avg_pool2d(t, size))
    return loss / total


def hcl_loss(preds_S: Maps, preds_T: Maps, pool_sizes: Sequence[int] = (4, 2, 1)) -> Tensor:
    """HCL summed over levels (:func:`hcl_level_loss`); single tensors are one level.

    Args:
        preds_S: student map (N, C, H, W) or a sequence of per-level maps.
        preds_T: teacher map(s), the same structure and shapes.
        pool_sizes: pooled sizes, see :func:`hcl_level_loss`.

    Returns:
        Scalar loss, the sum over levels.
    """
    preds_S, preds_T = _as_levels(preds_S, preds_T)
    return torch.stack([hcl_level_loss(s, t, pool_sizes)
                        for s, t in zip(preds_S, preds_T, strict=True)]).sum()


@MODELS.register_module()
class HCLLoss(nn.Module):
    """Hierarchical context loss of ReviewKD (module form for ``ConfigurableDistiller``).

    Takes single maps or whole tuples of FPN levels (then summed over levels), so one loss
    can follow a :class:`~kd_mmdet.models.connectors.ReviewKDConnector`.

    Args:
        loss_weight: multiplier of the loss, >= 0 (detection: 1.0 for R101→R50, 1.2 for
            R101→R18; paper).
        pool_sizes: sizes of the pooled maps, positive ints (official: 4, 2, 1).
    """
    method = 'ReviewKD'  # kd_mmdet.methods: the method it implements

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('preds_S', 'preds_T')

    def __init__(self, loss_weight: float = 1.0,
                 pool_sizes: Sequence[int] = (4, 2, 1)) -> None:
        super().__init__()
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        for size in pool_sizes:
            if not (isinstance(size, int) and size > 0):
                raise ValueError(f'HCLLoss: pool_sizes must be positive ints, got '
                                 f'{tuple(pool_sizes)!r}')
        self.loss_weight = float(loss_weight)
        self.pool_sizes = tuple(pool_sizes)

    def forward(self, preds_S: Maps, preds_T: Maps) -> Tensor:
        """Args: preds_S, preds_T: (N, C, H, W) maps of one shape, or equally long
        sequences of them (one per level)."""
        both_maps = isinstance(preds_S, Tensor) and isinstance(preds_T, Tensor)
        both_levels = not isinstance(preds_S, Tensor) and not isinstance(preds_T, Tensor)
        if not (both_maps or both_levels and len(preds_S) == len(preds_T) > 0):
            raise ValueError(f'HCLLoss: student {_describe(preds_S)} vs teacher '
                             f'{_describe(preds_T)} — pass two maps or two equally long '
                             'sequences of levels')
        for s, t in zip(*_as_levels(preds_S, preds_T), strict=True):
            check_same_shape(self, s, t, ndim=4)
        return self.loss_weight * hcl_loss(preds_S, preds_T, self.pool_sizes)
