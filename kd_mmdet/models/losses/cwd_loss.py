"""CWD — Shu, Liu, Gao, Yan, Shen, "Channel-wise Knowledge Distillation for Dense
Prediction", ICCV 2021. https://arxiv.org/abs/2011.13256

Each channel of a feature map (or of a dense logit map) is turned into a distribution over
its H·W positions; the student matches the teacher's distribution channel by channel.
In detection it is applied to the FPN outputs or to the head's per-level class logits.
"""
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_same_shape
from kd_mmdet.registry import MODELS
from .kd_loss import batch_dot


def cwd_loss(preds_S: Tensor, preds_T: Tensor, tau: float = 1.0) -> Tensor:
    r"""Channel-wise divergence between student and teacher maps.

    .. math::
        \mathcal{L} = \frac{\tau^2}{N C} \sum_{n, c} \sum_{i=1}^{HW}
            \phi(T_{n,c})_i \, \log \frac{\phi(T_{n,c})_i}{\phi(S_{n,c})_i},
        \qquad \phi(x)_i = \frac{\exp(x_i / \tau)}{\sum_j \exp(x_j / \tau)}

    This is the true KL divergence (as in mmrazor 1.0's ``ChannelWiseDivergence``): it is
    zero when student equals teacher. The older mmdetection-distiller logged the cross
    entropy :math:`-\sum \phi(T)\log\phi(S)` instead, which has the same gradient.

    Args:
        preds_S: student map, shape (N, C, H, W).
        preds_T: teacher map, shape (N, C, H, W); no gradient flows into it.
        tau: temperature :math:`\tau` (paper: 1 for detection, 4 for segmentation).

    Returns:
        Scalar loss, summed over positions and averaged over N·C.
    """
    N, C = preds_S.shape[:2]
    s = preds_S.reshape(N * C, -1).float()
    t = preds_T.detach().reshape(N * C, -1).float()
    # Memory (benchmarks/cost.py, P3-P7 of an 800x1333 input): no copy for tau = 1 and
    # none kept alive otherwise, and a dot product instead of a map-sized product: the
    # backward keeps p_T and log p_S only, 20 % under mmrazor's peak and faster.
    log_p_s = F.log_softmax(s / tau if tau != 1 else s, dim=1)
    log_p_t = F.log_softmax(t / tau if tau != 1 else t, dim=1)
    kl = batch_dot(log_p_t.exp(), log_p_t - log_p_s, 'sum')
    return kl * tau**2 / (N * C)


@MODELS.register_module()
class CWDLoss(nn.Module):
    """Channel-wise distillation loss (module form for ``ConfigurableDistiller``).

    Args:
        tau: softmax temperature over spatial positions, > 0. Official detection
            settings use 1.
        loss_weight: multiplier of the loss, >= 0 (5 in mmdetection-distiller's
            RetinaNet configs, 10 in mmrazor 1.0's).
    """
    # kd_mmdet.methods: mmrazor's implementation of the same loss
    upstream_types = ('ChannelWiseDivergence', )

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('preds_S', 'preds_T')

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        check_positive(self, 'tau', tau)
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        self.tau = float(tau)
        self.loss_weight = float(loss_weight)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Args: preds_S, preds_T: (N, C, H, W) maps of the same shape."""
        check_same_shape(self, preds_S, preds_T, ndim=4)
        return self.loss_weight * cwd_loss(preds_S, preds_T, self.tau)
