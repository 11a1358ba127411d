"""The whole LD method on GFL head outputs — Zheng, Ye, Wang, Ren, Zuo, Cheng,
"Localization Distillation for Dense Object Detection", CVPR 2022.
https://arxiv.org/abs/2102.12252 (official code: https://github.com/HikariTJU/LD)

mmdet 3.3's ``LDHead`` has only the main-region term. :class:`LDHeadLoss` computes, from
the student's and the teacher's GFL head outputs recorded by mmrazor, every term of the
official ``LDHead``, each returned under its own name so it is logged separately:

- ``main``: LD on the student's positive locations, weighted by the student's max class
  score (official weight 0.25, tau 10);
- ``vlr``: LD on the Valuable Localization Region, weighted by each location's IoU with
  its GT (0.25, tau 10; :func:`kd_mmdet.models.utils.vlr_mask`); the region uses the
  published DIoU, or with ``vlr_iou='official'`` the official code's IoF-based one;
- ``kd``: class-score KD on the positives (official weight 10, T 2);
- ``im`` (off by default): feature imitation, MSE between student and teacher FPN features
  on the fine-grained region of Wang et al. 2019 (locations whose IoU with a GT exceeds
  half of that GT's best), as the official ``imitation_method='finegrained'``.

The positives are the student head's own ATSS assignment: the config records the output of
``GFLHead.get_targets`` (anchors and labels), so nothing is re-assigned here and the
student trains as a plain GFL. Reductions follow the official head: per level, ``main`` is
divided by 4 (edges), ``vlr`` by 16 and ``kd`` by the number of positives of that level;
the levels are then summed.
"""
from collections.abc import Sequence
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.losses.ld_loss import ld_loss
from kd_mmdet.models.common.checks import check_positive, check_same_shape
from kd_mmdet.models.utils.vlr import anchor_gt_ious, bbox_iou, check_vlr_iou, vlr_mask
from kd_mmdet.registry import MODELS

_NAME = 'LDHeadLoss'


def _flatten_levels(maps: Sequence[Tensor]) -> List[Tensor]:
    """Per level (N, K, H, W) -> (N, H*W, K), the anchor order of mmdet's GFL head."""
    return [m.permute(0, 2, 3, 1).reshape(m.size(0), -1, m.size(1)) for m in maps]


def _gt_bboxes(data_samples: Sequence) -> List[Tensor]:
    return [sample.gt_instances.bboxes for sample in data_samples]


def finegrained_region(anchors: Tensor, gt_bboxes: Tensor, ratio: float = 0.5,
                       ious: Optional[Tensor] = None) -> Tensor:
    """Anchors whose IoU with some GT exceeds ``ratio`` x that GT's best anchor IoU.

    The imitation region of Wang et al., "Distilling Object Detectors with Fine-grained
    Feature Imitation", CVPR 2019, as used by the official LD code.

    Args:
        anchors: (A, 4) xyxy. gt_bboxes: (G, 4) xyxy.
        ratio: fraction of the best IoU (0.5 in both references).
        ious: (A, G) ``bbox_iou(anchors, gt_bboxes)`` when the caller already has it.

    Returns:
        (A,) bool mask.
    """
    if gt_bboxes.numel() == 0 or anchors.numel() == 0:
        return anchors.new_zeros(anchors.size(0), dtype=torch.bool)
    ious = anchor_gt_ious('finegrained_region', ious, anchors.float(), gt_bboxes.float())
    best = ious.max(dim=0).values
    return ((ious > ratio * best[None]) & (best[None] > 0)).any(dim=1)


@MODELS.register_module()
class LDHeadLoss(nn.Module):
    """LD main + VLR + class KD (+ optional imitation) for GFL heads, one term per key.

    Wire it in a ``ConfigurableDistiller`` with recorders on the student's and the
    teacher's ``bbox_head`` (outputs: ``data_idx=0`` class scores, ``1`` box
    distributions), on the student's ``GFLHead.get_targets`` (outputs: ``0`` anchors,
    ``1`` labels) and on ``unpack_gt_instances`` (inputs: ``0`` data samples), as in
    ``configs/ld/``.

    Args:
        tau: temperature of the edge distributions (official 10).
        kd_temperature: temperature of the class-score KD (official 2).
        loss_weight: weight of the main-region term (official 0.25).
        vlr_weight: weight of the VLR term (official 0.25); 0 switches it off.
        kd_weight: weight of the class-score KD (official 10); 0 switches it off.
        im_weight: weight of the feature imitation (official 2 when used); 0 (default)
            switches it off.
        vlr_ratio: the VLR's lower DIoU bound as a fraction of the ATSS threshold (0.25).
        topk: ATSS candidates per level, the assigner's ``topk`` (9).
        vlr_iou: how the VLR's DIoU is computed. ``'diou'`` (default): the published
            Distance-IoU of the paper. ``'official'``: what the official code
            (HikariTJU/LD) computes and what its published numbers were trained with —
            mmdet 2's ``bbox_overlaps(anchors, gts, mode='diou')`` of that repository,
            intersection over the *anchor's* area minus the DIoU centre penalty
            (:func:`kd_mmdet.models.utils.bbox_diou_official`).
    """
    method = 'LD'  # kd_mmdet.methods: the method it implements

    def __init__(self,
                 tau: float = 10.0,
                 kd_temperature: float = 2.0,
                 loss_weight: float = 0.25,
                 vlr_weight: float = 0.25,
                 kd_weight: float = 10.0,
                 im_weight: float = 0.0,
                 vlr_ratio: float = 0.25,
                 topk: int = 9,
                 vlr_iou: str = 'diou') -> None:
        super().__init__()
        check_positive(_NAME, 'tau', tau)
        check_positive(_NAME, 'kd_temperature', kd_temperature)
        for arg, value in (('loss_weight', loss_weight), ('vlr_weight', vlr_weight),
                           ('kd_weight', kd_weight), ('im_weight', im_weight)):
            check_positive(_NAME, arg, value, allow_zero=True)
        if not 0 <= vlr_ratio <= 1:
            raise ValueError(f'{_NAME}: vlr_ratio must be in [0, 1], got {vlr_ratio!r}')
        if not isinstance(topk, int) or topk < 1:
            raise ValueError(f'{_NAME}: topk must be an int >= 1, got {topk!r}')
        check_vlr_iou(_NAME, 'vlr_iou', vlr_iou)
        self.tau = tau
        self.kd_temperature = kd_temperature
        self.loss_weight = loss_weight
        self.vlr_weight = vlr_weight
        self.kd_weight = kd_weight
        self.im_weight = im_weight
        self.vlr_ratio = vlr_ratio
        self.topk = topk
        self.vlr_iou = vlr_iou

    def forward(self,
                cls_scores_S: Sequence[Tensor],
                bbox_preds_S: Sequence[Tensor],
                cls_scores_T: Sequence[Tensor],
                bbox_preds_T: Sequence[Tensor],
                anchors: Sequence[Tensor],
                labels: Sequence[Tensor],
                data_samples: Optional[Sequence] = None,
                feats_S: Optional[Sequence[Tensor]] = None,
                feats_T: Optional[Sequence[Tensor]] = None) -> Dict[str, Tensor]:
        """LD terms of one batch.

        Args:
            cls_scores_S, cls_scores_T: per level (N, C, H, W) class logits (sigmoid).
            bbox_preds_S, bbox_preds_T: per level (N, 4 * (reg_max + 1), H, W) edge logits.
            anchors: per level (N, H*W, 4) xyxy anchors (``GFLHead.get_targets`` output 0).
            labels: per level (N, H*W) assigned labels, ``C`` = background (output 1).
            data_samples: the batch's ``DetDataSample`` list (GT boxes), needed for ``vlr``
                and ``im``.
            feats_S, feats_T: per level (N, D, H, W) features of equal shape, for ``im``.

        Returns:
            ``{'main', 'vlr', 'kd', 'im'}`` — only the terms whose weight is not zero.
        """
        self._check_inputs(cls_scores_S, bbox_preds_S, cls_scores_T, bbox_preds_T, anchors,
                           labels, data_samples, feats_S, feats_T)
        num_classes = cls_scores_S[0].size(1)
        bins = bbox_preds_S[0].size(1) // 4
        cls_S, cls_T = _flatten_levels(cls_scores_S), _flatten_levels(cls_scores_T)
        reg_S, reg_T = _flatten_levels(bbox_preds_S), _flatten_levels(bbox_preds_T)
        # In fp32: an fp16 sum of the maps overflows to inf, and inf * 0 is NaN.
        zero = sum(r.float().sum() for r in reg_S) * 0.0
        losses: Dict[str, Tensor] = {}

        pos = [(lab >= 0) & (lab < num_classes) for lab in labels]
        if self.loss_weight > 0:
            main = zero
            for c_s, r_s, r_t, p in zip(cls_S, reg_S, reg_T, pos):
                if p.any():
                    w = c_s.detach().float().sigmoid().max(dim=-1).values[p]  # (P,)
                    edge = ld_loss(r_s[p].reshape(-1, bins), r_t[p].reshape(-1, bins),
                                   self.tau)  # (P * 4,)
                    main = main + (edge * w.repeat_interleave(4)).sum() / 4.0
            losses['main'] = self.loss_weight * main

        if self.kd_weight > 0:
            kd = zero
            for c_s, c_t, p in zip(cls_S, cls_T, pos):
                if p.any():
                    kd = kd + ld_loss(c_s[p], c_t[p], self.kd_temperature).sum() / p.sum()
            losses['kd'] = self.kd_weight * kd

        if self.vlr_weight > 0 or self.im_weight > 0:
            regions = self._regions(anchors, data_samples)
        if self.vlr_weight > 0:
            vlr = zero
            for r_s, r_t, (vlr_w, _) in zip(reg_S, reg_T, regions):
                m = vlr_w > 0
                if m.any():
                    edge = ld_loss(r_s[m].reshape(-1, bins), r_t[m].reshape(-1, bins),
                                   self.tau)
                    vlr = vlr + (edge * vlr_w[m].repeat_interleave(4)).sum() / 16.0
            losses['vlr'] = self.vlr_weight * vlr

        if self.im_weight > 0:
            im = zero
            for f_s, f_t, (_, im_m) in zip(_flatten_levels(feats_S), _flatten_levels(feats_T),
                                           regions):
                if im_m.any():
                    im = im + F.mse_loss(f_s[im_m].float(), f_t[im_m].float())
            losses['im'] = self.im_weight * im
        return losses

    def _regions(self, anchors: Sequence[Tensor], data_samples: Sequence):
        """Per level: (VLR weight (N, A_l), imitation mask (N, A_l)) from the GT boxes."""
        num_level = [a.size(1) for a in anchors]
        vlr_w, im_m = [], []
        for i, gt in enumerate(_gt_bboxes(data_samples)):
            flat, gt = torch.cat([a[i] for a in anchors]), gt.to(anchors[0])
            # one anchor-GT IoU matrix serves both regions
            ious = bbox_iou(flat.float(), gt.float()) if gt.size(0) else None
            if self.vlr_weight > 0:
                res = vlr_mask(flat, gt, num_level, self.topk, self.vlr_ratio, ious=ious,
                               iou_mode=self.vlr_iou)
                vlr_w.append(res.ious)
            else:
                vlr_w.append(flat.new_zeros(flat.size(0)))
            if self.im_weight > 0:
                im_m.append(finegrained_region(flat, gt, ious=ious))
            else:
                im_m.append(flat.new_zeros(flat.size(0), dtype=torch.bool))
        vlr_levels = torch.stack(vlr_w).split(num_level, dim=1)
        im_levels = torch.stack(im_m).split(num_level, dim=1)
        return list(zip(vlr_levels, im_levels))

    def _check_inputs(self, cls_S, reg_S, cls_T, reg_T, anchors, labels, data_samples,
                      feats_S, feats_T) -> None:
        n = len(cls_S)
        for arg, value in (('bbox_preds_S', reg_S), ('cls_scores_T', cls_T),
                           ('bbox_preds_T', reg_T), ('anchors', anchors),
                           ('labels', labels)):
            if len(value) != n:
                raise ValueError(f'{_NAME}: {arg} has {len(value)} levels, cls_scores_S '
                                 f'has {n}')
        for lvl in range(n):
            # Not check_same_shape: a differing width here is another num_classes or
            # reg_max, which no connector fixes.
            for arg, s, t in (('cls_scores', cls_S[lvl], cls_T[lvl]),
                              ('bbox_preds', reg_S[lvl], reg_T[lvl])):
                if s.shape != t.shape:
                    raise ValueError(f'{_NAME}: {arg} level {lvl}: student '
                                     f'{tuple(s.shape)} vs teacher {tuple(t.shape)}')
            if reg_S[lvl].size(1) % 4:
                raise ValueError(f'{_NAME}: bbox_preds level {lvl} has '
                                 f'{reg_S[lvl].size(1)} channels, not 4 * (reg_max + 1)')
            locs = cls_S[lvl].size(0), cls_S[lvl].size(2) * cls_S[lvl].size(3)
            if tuple(labels[lvl].shape) != locs or tuple(anchors[lvl].shape[:2]) != locs:
                raise ValueError(
                    f'{_NAME}: level {lvl} has {locs[1]} locations x {locs[0]} images but '
                    f'labels {tuple(labels[lvl].shape)} and anchors '
                    f'{tuple(anchors[lvl].shape)} — one anchor per location expected '
                    '(GFL heads); record GFLHead.get_targets outputs 0 and 1')
        if (self.vlr_weight > 0 or self.im_weight > 0) and data_samples is None:
            raise ValueError(f'{_NAME}: vlr_weight/im_weight > 0 need data_samples '
                             '(GT boxes); map them from an unpack_gt_instances recorder')
        if self.im_weight > 0:
            if feats_S is None or feats_T is None:
                raise ValueError(f'{_NAME}: im_weight > 0 needs feats_S and feats_T')
            if len(feats_S) != n or len(feats_T) != n:
                raise ValueError(f'{_NAME}: feats_S and feats_T have {len(feats_S)} and '
                                 f'{len(feats_T)} levels, cls_scores_S has {n}')
            for lvl, (f_s, f_t) in enumerate(zip(feats_S, feats_T)):
                check_same_shape(f'{_NAME}: feats level {lvl}', f_s, f_t, ndim=4)
