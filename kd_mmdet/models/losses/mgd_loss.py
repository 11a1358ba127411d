"""MGD — Yang, Li, Shao, Shi, Yuan, Yuan, "Masked Generative Distillation", ECCV 2022.
https://arxiv.org/abs/2205.01529

The student's feature is randomly masked and a small generator must rebuild the teacher's
full feature from it (see :class:`~kd_mmdet.models.connectors.MGDConnector`); this loss is
the squared error between the generated and the teacher's feature. In detection it is
applied to every FPN output.
"""
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_same_shape
from kd_mmdet.registry import MODELS


def mgd_loss(preds_S: Tensor, preds_T: Tensor, alpha_mgd: float = 2e-5) -> Tensor:
    r"""Summed squared error between the generated and the teacher's feature.

    .. math::
        \mathcal{L} = \frac{\alpha}{N} \sum_{n,c,h,w}
            \big(\mathcal{G}(f_{align}(S) \cdot M)_{nchw} - T_{nchw}\big)^2

    where :math:`\mathcal{G}(f_{align}(S) \cdot M)` is ``preds_S``, the output of the MGD
    generator. Same value as mmrazor 1.0's ``MGDLoss``.

    Args:
        preds_S: generator output, shape (N, C, H, W).
        preds_T: teacher map, shape (N, C, H, W); no gradient flows into it.
        alpha_mgd: :math:`\alpha` (2e-5 for RetinaNet/RepPoints on 5 FPN levels, 5e-7 for
            Faster/Mask R-CNN on 4 levels; official configs).

    Returns:
        Scalar loss, summed over everything and divided by the batch size N.
    """
    # One fused kernel: (S - T)**2 summed in two steps kept two map-sized temporaries
    # alive and ran at half the speed of mmrazor's nn.MSELoss (benchmarks/cost.py).
    sq_err = F.mse_loss(preds_S.float(), preds_T.detach().float(), reduction='sum')
    return sq_err * (alpha_mgd / preds_S.shape[0])  # one scalar op on the graph


@MODELS.register_module()
class MGDLoss(nn.Module):
    """Masked generative distillation loss (module form for ``ConfigurableDistiller``).

    Feed it the output of :class:`~kd_mmdet.models.connectors.MGDConnector` as
    ``preds_S`` and the teacher's map as ``preds_T``.

    Args:
        alpha_mgd: weight α of the summed squared error, >= 0.
        loss_weight: extra multiplier of the loss, >= 0.
    """
    # kd_mmdet.methods: mmrazor's implementation of the same loss
    upstream_types = ('MGDLoss', )

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('preds_S', 'preds_T')

    def __init__(self, alpha_mgd: float = 2e-5, loss_weight: float = 1.0) -> None:
        super().__init__()
        check_positive(self, 'alpha_mgd', alpha_mgd, allow_zero=True)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        self.alpha_mgd = float(alpha_mgd)
        self.loss_weight = float(loss_weight)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Args: preds_S (generator output), preds_T: (N, C, H, W) maps of one shape."""
        check_same_shape(self, preds_S, preds_T, ndim=4)
        # loss_weight * alpha folded into one factor: the same value, one op fewer.
        return mgd_loss(preds_S, preds_T, self.loss_weight * self.alpha_mgd)
