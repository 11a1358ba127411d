"""PKD — Cao, Zhang, Gao, Cheng, Cheng, Cheng, "PKD: General Distillation Framework for
Object Detectors via Pearson Correlation Coefficient", NeurIPS 2022.
https://arxiv.org/abs/2207.02039

Each channel of the student's and the teacher's FPN map is normalised to zero mean and
unit variance, then the two are compared by MSE. Normalising removes the teacher's
feature magnitude (which differs across detectors, stages and channels), so the loss
only asks the student to correlate with the teacher: the MSE of standardised vectors is
:math:`1 - r`, with :math:`r` the Pearson correlation coefficient. It is applied to each
FPN output, which makes it work between heterogeneous detectors (e.g. a Faster R-CNN or
FCOS teacher for a RetinaNet student).

mmrazor 1.0's ``PKDLoss`` (the authors' implementation) is matched value for value and
gradient for gradient; where it breaks we do not (see :func:`pkd_normalize` and
:class:`PKDLoss`): a channel with a single element (a 1x1 map at batch size 1, e.g. P7
of a 128 px image) gives NaN there, fp16 maps are normalised in fp16, and maps of
different spatial sizes are silently interpolated (only when their heights differ).
"""
from typing import Sequence, Union

from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive, check_same_shape
from kd_mmdet.models.common.standardize import STD_EPS, standardize_channels
from kd_mmdet.registry import MODELS

#: Added to the standard deviation before dividing by it, as in mmrazor 1.0.
PKD_EPS = STD_EPS

#: PKD's normalisation: every channel standardised over the batch (or per image);
#: :func:`kd_mmdet.models.common.standardize_channels`, the one CrossKD's alignment uses.
pkd_normalize = standardize_channels

Maps = Union[Tensor, Sequence[Tensor]]


def pkd_loss(preds_S: Tensor, preds_T: Tensor, per_image: bool = False) -> Tensor:
    r"""PKD on one feature level: MSE of the standardised maps, halved.

    .. math::
        \mathcal{L} = \frac{1}{2 N C H W} \sum_{n, c, h, w}
            \big(\hat S_{n,c,h,w} - \hat T_{n,c,h,w}\big)^2

    with :math:`\hat S, \hat T` from :func:`pkd_normalize`. For a channel standardised
    over :math:`M` elements this is :math:`\frac{M-1}{M}(1 - r_c)` averaged over the
    channels, :math:`r_c` the Pearson correlation of student and teacher (up to
    :math:`\epsilon`): the loss does not change when the teacher's map is scaled by a
    positive factor or shifted per channel.

    Args:
        preds_S: student map, shape (N, C, H, W).
        preds_T: teacher map, same shape; no gradient flows into it.
        per_image: see :func:`pkd_normalize`.

    Returns:
        Scalar loss, float32.
    """
    norm_S = pkd_normalize(preds_S, per_image)
    norm_T = pkd_normalize(preds_T.detach(), per_image)
    return (norm_S - norm_T).pow(2).mean() / 2


@MODELS.register_module()
class PKDLoss(nn.Module):
    """Pearson-correlation feature distillation (module form for ``ConfigurableDistiller``).

    Named ``kd_mmdet.PKDLoss`` in configs; ``PKDLoss`` alone, from mmrazor's registry,
    is mmrazor's own. Equal to mmrazor 1.0's ``PKDLoss`` for maps of one shape in fp32
    wherever that one is finite (values and gradients), with these differences:

    - shapes must match: a student map of another size or width is an error naming both
      shapes (mmrazor interpolates the student to the teacher's size, but only when the
      heights differ; equal heights with different widths fail its bare ``assert``);
    - degenerate channels are finite (see :func:`pkd_normalize`), half-precision maps are
      normalised in fp32;
    - ``per_image`` (not in mmrazor or the paper) standardises over each image's own
      positions.

    Official settings (mmrazor ``configs/distill/mmdet/pkd``): the neck outputs
    ``neck`` ``data_idx`` 0–3 (four levels), loss_weight 6 for Faster R-CNN R101 → R50 2x
    (40.4 box AP) and 10 for RetinaNet X101 → R50 2x (40.8); CrossKD + PKD on GFL R101 →
    R50 uses 6 on all five levels (jbwang1997/CrossKD config).

    Args:
        loss_weight: multiplier of the loss, >= 0.
        per_image: standardise each image separately (see :func:`pkd_normalize`).
    """
    # kd_mmdet.methods: mmrazor's implementation of the same loss
    upstream_types = ('PKDLoss', )

    #: Arguments that must share one shape; a dry run checks them before training
    #: (``kd_mmdet.SingleTeacherDistill(check_shapes=True)``).
    same_shape_inputs = ('preds_S', 'preds_T')

    def __init__(self, loss_weight: float = 1.0, per_image: bool = False) -> None:
        super().__init__()
        check_positive(self, 'loss_weight', loss_weight, allow_zero=True)
        self.loss_weight = float(loss_weight)
        self.per_image = bool(per_image)

    def forward(self, preds_S: Maps, preds_T: Maps) -> Tensor:
        """Args:
            preds_S: student map (N, C, H, W), or a sequence of them (one per level).
            preds_T: teacher map(s) of the same shape(s); the levels' losses are summed,
                as mmrazor does for a tuple.
        """
        if isinstance(preds_S, (list, tuple)) and isinstance(preds_T, (list, tuple)):
            if len(preds_S) != len(preds_T) or not preds_S:
                raise ValueError(f'PKDLoss: {len(preds_S)} student levels vs '
                                 f'{len(preds_T)} teacher levels')
            pairs = list(zip(preds_S, preds_T))
        else:
            pairs = [(preds_S, preds_T)]
        for level, (s, t) in enumerate(pairs):
            owner = 'PKDLoss' if len(pairs) == 1 else f'PKDLoss (level {level})'
            check_same_shape(owner, s, t, ndim=4)
        total = sum(pkd_loss(s, t, self.per_image) for s, t in pairs)
        return self.loss_weight * total
