"""Valuable Localization Region (VLR) of LD — Zheng, Ye, Wang, Ren, Zuo, Cheng,
"Localization Distillation for Dense Object Detection", CVPR 2022.
https://arxiv.org/abs/2102.12252

Pure box geometry, no learnable state: pairwise IoU and Distance-IoU, the ATSS positive
threshold, and the VLR — the anchors just below that threshold, where the teacher's edge
distributions are still worth distilling although the anchors are not positives.
"""
from collections.abc import Sequence
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from kd_mmdet.models.common.checks import check_positive

# mmdet's bbox_overlaps clamps the union (and our enclosing diagonal) by this value
BOX_EPS = 1e-6
# How the VLR's DIoU is computed: 'diou' is the published Distance-IoU; 'official' is what
# the official LD code computes (see bbox_diou_official).
VLR_IOU_MODES = ('diou', 'official')


def _check_boxes(owner: str, arg: str, boxes: Tensor) -> None:
    if boxes.dim() != 2 or boxes.size(1) != 4:
        raise ValueError(f'{owner}: {arg} must have shape (K, 4) in xyxy, got '
                         f'{tuple(boxes.shape)}')


def _centres(boxes: Tensor) -> Tensor:
    """(K, 4) xyxy -> (K, 2) centres, computed as in mmdet's ATSS assigner."""
    return torch.stack(((boxes[:, 0] + boxes[:, 2]) / 2.0,
                        (boxes[:, 1] + boxes[:, 3]) / 2.0), dim=1)


def _areas(boxes: Tensor) -> Tensor:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _intersection(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection areas, shape (N, M)."""
    lt = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    return wh[..., 0] * wh[..., 1]


def bbox_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise IoU, equal to mmdet's ``bbox_overlaps(boxes1, boxes2)`` (union >= 1e-6).

    Args:
        boxes1: (N, 4) xyxy. boxes2: (M, 4) xyxy.

    Returns:
        IoU matrix, shape (N, M).
    """
    _check_boxes('bbox_iou', 'boxes1', boxes1)
    _check_boxes('bbox_iou', 'boxes2', boxes2)
    overlap = _intersection(boxes1, boxes2)
    union = (_areas(boxes1)[:, None] + _areas(boxes2)[None, :] - overlap).clamp(min=BOX_EPS)
    return overlap / union


def bbox_diou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    r"""Pairwise Distance-IoU (Zheng et al., AAAI 2020), in [-1, 1].

    .. math::
        \mathrm{DIoU}(A, B) = \mathrm{IoU}(A, B) - \frac{\rho^2(a, b)}{c^2}

    with :math:`\rho(a, b)` the distance between the box centres and :math:`c` the
    diagonal of the smallest box enclosing both. (The official LD code's ``'diou'`` mode
    divides the intersection by the anchor's area instead of the union — an IoF; this is
    the published DIoU.)

    Args:
        boxes1: (N, 4) xyxy. boxes2: (M, 4) xyxy.

    Returns:
        DIoU matrix, shape (N, M).
    """
    return bbox_iou(boxes1, boxes2) - _centre_distance_penalty(boxes1, boxes2)


def bbox_diou_official(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    r"""Pairwise "DIoU" as the official LD code computes it (not symmetric).

    .. math::
        \frac{|A \cap B|}{\max(|A|, 10^{-6})} - \frac{\rho^2(a, b)}{c^2}

    The official VLR (HikariTJU/LD, ``ATSSAssigner.get_vlr_region``) calls mmdet 2's
    ``bbox_overlaps(anchors, gt_bboxes, mode='diou')`` of that repository
    (``mmdet/core/bbox/iou_calculators/iou2d_calculator.py``), whose ``'diou'`` mode takes
    the "union" of the ``'iof'`` branch — the area of the first box (the anchor) — before
    subtracting the DIoU centre penalty. :func:`bbox_diou` is the published DIoU.

    Args:
        boxes1: (N, 4) xyxy (the anchors). boxes2: (M, 4) xyxy (the GT boxes).

    Returns:
        Matrix of shape (N, M).
    """
    _check_boxes('bbox_diou_official', 'boxes1', boxes1)
    _check_boxes('bbox_diou_official', 'boxes2', boxes2)
    return _iof_first(boxes1, boxes2) - _centre_distance_penalty(boxes1, boxes2)


def _iof_first(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection over the first box's area (mmdet's 'iof'), shape (N, M)."""
    return _intersection(boxes1, boxes2) / _areas(boxes1)[:, None].clamp(min=BOX_EPS)


def check_vlr_iou(owner: str, arg: str, mode: str) -> None:
    """Raise unless ``mode`` is one of :data:`VLR_IOU_MODES`."""
    if mode not in VLR_IOU_MODES:
        raise ValueError(f"{owner}: {arg} must be one of {VLR_IOU_MODES} ('diou' = the "
                         "published Distance-IoU, 'official' = the official LD code's "
                         f"intersection over the anchor's area minus the penalty), got {mode!r}")


def _centre_distance_penalty(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """DIoU's penalty rho^2 / c^2, shape (N, M)."""
    rho2 = (_centres(boxes1)[:, None] - _centres(boxes2)[None]).pow(2).sum(-1)
    enclose_lt = torch.min(boxes1[:, None, :2], boxes2[None, :, :2])
    enclose_rb = torch.max(boxes1[:, None, 2:], boxes2[None, :, 2:])
    c2 = (enclose_rb - enclose_lt).clamp(min=0).pow(2).sum(-1).clamp(min=BOX_EPS)
    return rho2 / c2


def atss_candidates(anchors: Tensor, gt_bboxes: Tensor, num_level_anchors: Sequence[int],
                    topk: int = 9) -> Tensor:
    """ATSS candidates: on each level, the ``topk`` anchors whose centres are closest to
    each GT centre (as mmdet 3.3's ``ATSSAssigner``).

    Args:
        anchors: (A, 4) xyxy, all levels concatenated in order.
        gt_bboxes: (G, 4) xyxy.
        num_level_anchors: anchors per level, summing to A.
        topk: candidates per level and GT (official 9); fewer on a level with fewer anchors.

    Returns:
        Anchor indices, shape (sum_l min(topk, A_l), G).
    """
    distances = (_centres(anchors)[:, None, :] - _centres(gt_bboxes)[None, :, :]
                 ).pow(2).sum(-1).sqrt()
    candidate_idxs: list[Tensor] = []
    start = 0
    for num in num_level_anchors:
        _, idxs = distances[start:start + num].topk(min(topk, num), dim=0, largest=False)
        candidate_idxs.append(idxs + start)
        start += num
    return torch.cat(candidate_idxs, dim=0)


def atss_threshold(ious: Tensor, candidate_idxs: Tensor) -> Tensor:
    """The ATSS positive IoU threshold of each GT: mean + std of its candidates' IoUs.

    ``std`` is the unbiased one (``torch.std``), as in mmdet and the official code; with a
    single candidate it is NaN there too, and then no anchor passes the threshold.

    Args:
        ious: anchor–GT IoU, shape (A, G).
        candidate_idxs: (K, G) from :func:`atss_candidates`.

    Returns:
        Threshold per GT, shape (G,).
    """
    candidate_ious = ious[candidate_idxs, torch.arange(ious.size(1), device=ious.device)]
    return candidate_ious.mean(0) + candidate_ious.std(0)


def anchor_gt_ious(owner: str, ious: Optional[Tensor], boxes1: Tensor,
                  boxes2: Tensor) -> Tensor:
    """``bbox_iou(boxes1, boxes2)``, or the caller's precomputed one after a shape check."""
    if ious is None:
        return bbox_iou(boxes1, boxes2)
    expected = (boxes1.size(0), boxes2.size(0))
    if tuple(ious.shape) != expected:
        raise ValueError(f'{owner}: ious must be the (anchors, gt_bboxes) IoU matrix of shape '
                         f'{expected}, got {tuple(ious.shape)}')
    return ious.float()


class VLRResult(NamedTuple):
    """The Valuable Localization Region of one image.

    Attributes:
        mask: (A,) bool, True on VLR anchors.
        gt_inds: (A,) long, the GT each VLR anchor belongs to (0-based), -1 elsewhere.
        ious: (A,) IoU with that GT, 0 elsewhere; the official ``loss_ld_vlr`` weight.
    """
    mask: Tensor
    gt_inds: Tensor
    ious: Tensor


def vlr_mask(anchors: Tensor, gt_bboxes: Tensor, num_level_anchors: Sequence[int],
             topk: int = 9, ratio: float = 0.25,
             ious: Optional[Tensor] = None, iou_mode: str = 'diou') -> VLRResult:
    r"""Anchors in the Valuable Localization Region of any GT box.

    .. math::
        \mathrm{VLR}_g = \{\, a : \alpha\, \theta_g \le \mathrm{DIoU}(a, g) < \theta_g \,\}

    with :math:`\theta_g` the ATSS positive threshold of GT :math:`g` (IoU mean + std of
    its ``topk``-per-level candidates) and :math:`\alpha` = ``ratio``. As in the official
    ``get_vlr_region``: every anchor is tested (not only the ATSS candidates, and without
    the centre-inside-GT condition), positives are not excluded, and an anchor in the VLR
    of several GTs belongs to the one with the highest IoU.

    Args:
        anchors: (A, 4) xyxy priors of one image, all levels concatenated in order.
        gt_bboxes: (G, 4) xyxy GT boxes of that image, same coordinate frame.
        num_level_anchors: anchors per level, summing to A.
        topk: ATSS candidates per level (official 9, the assigner's ``topk``).
        ratio: lower bound as a fraction of the threshold (official 0.25), in [0, 1].
        ious: (A, G) ``bbox_iou(anchors, gt_bboxes)`` when the caller already has it
            (:class:`~kd_mmdet.LDHeadLoss` shares it with the imitation region).
        iou_mode: ``'diou'`` (default) tests the published DIoU (:func:`bbox_diou`);
            ``'official'`` the official code's intersection over the anchor's area minus
            the centre penalty (:func:`bbox_diou_official`). The threshold and the
            returned weights are plain IoU in both.

    Returns:
        :class:`VLRResult` ``(mask, gt_inds, ious)``, each of shape (A,).
    """
    _check_boxes('vlr_mask', 'anchors', anchors)
    _check_boxes('vlr_mask', 'gt_bboxes', gt_bboxes)
    if sum(num_level_anchors) != anchors.size(0):
        raise ValueError(f'vlr_mask: num_level_anchors {list(num_level_anchors)} sum to '
                         f'{sum(num_level_anchors)}, but anchors has shape '
                         f'{tuple(anchors.shape)}')
    if not isinstance(topk, int) or topk < 1:
        raise ValueError(f'vlr_mask: topk must be an int >= 1, got {topk!r}')
    check_positive('vlr_mask', 'ratio', ratio, allow_zero=True)
    if ratio > 1:
        raise ValueError(f'vlr_mask: ratio must be in [0, 1], got {ratio!r}')
    check_vlr_iou('vlr_mask', 'iou_mode', iou_mode)

    num_anchors = anchors.size(0)
    gt_inds = anchors.new_full((num_anchors, ), -1, dtype=torch.long)
    ious_out = anchors.new_zeros((num_anchors, ), dtype=torch.float32)
    if gt_bboxes.size(0) == 0 or num_anchors == 0:
        return VLRResult(gt_inds >= 0, gt_inds, ious_out)

    anchors, gt_bboxes = anchors.float(), gt_bboxes.float()
    ious = anchor_gt_ious('vlr_mask', ious, anchors, gt_bboxes)
    thr = atss_threshold(ious, atss_candidates(anchors, gt_bboxes, num_level_anchors, topk))
    overlap = ious if iou_mode == 'diou' else _iof_first(anchors, gt_bboxes)
    diou = overlap - _centre_distance_penalty(anchors, gt_bboxes)  # IoU reused for 'diou'
    in_vlr = (diou >= ratio * thr[None]) & (diou < thr[None])  # (A, G)

    best_iou, best_gt = ious.masked_fill(~in_vlr, -1.0).max(dim=1)
    mask = in_vlr.any(dim=1)
    gt_inds[mask] = best_gt[mask]
    ious_out[mask] = best_iou[mask]
    return VLRResult(mask, gt_inds, ious_out)
