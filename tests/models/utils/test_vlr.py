import statistics

import pytest
import torch

from kd_mmdet.models.utils import (atss_candidates, atss_threshold, bbox_diou,
                                   bbox_diou_official, bbox_iou, vlr_mask)


def grid_anchors(img_size=96, strides=(8, 16, 32), scale=4):
    """Square anchors of side scale·stride centred on each cell, levels concatenated."""
    levels = []
    for stride in strides:
        c = torch.arange(0, img_size, stride, dtype=torch.float32) + stride / 2
        cy, cx = torch.meshgrid(c, c, indexing='ij')
        half = scale * stride / 2
        levels.append(torch.stack([cx - half, cy - half, cx + half, cy + half], -1)
                      .reshape(-1, 4))
    return torch.cat(levels), [lvl.size(0) for lvl in levels]


def random_gts(seed, num=3, img_size=96):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(num, 2, generator=g) * img_size * 0.6
    wh = 8 + torch.rand(num, 2, generator=g) * img_size * 0.4
    return torch.cat([xy, xy + wh], dim=1)


def shifted_boxes(shifts, size=10.0):
    """size×size boxes [d, 0, d + size, size]."""
    return torch.tensor([[d, 0.0, d + size, size] for d in shifts])


def test_bbox_iou_equals_mmdet_bbox_overlaps():
    """Our IoU equals mmdet's bbox_overlaps, disjoint and nested boxes included."""
    from mmdet.structures.bbox import bbox_overlaps
    anchors, _ = grid_anchors()
    gts = torch.cat([random_gts(0), torch.tensor([[200.0, 200.0, 210.0, 210.0]])])
    torch.testing.assert_close(bbox_iou(anchors, gts), bbox_overlaps(anchors, gts),
                               rtol=0, atol=0)


def test_bbox_diou_hand_computed():
    """DIoU = IoU − ρ²/c² on boxes worked out by hand."""
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    others = torch.tensor([
        [0.0, 0.0, 10.0, 10.0],    # identical: 1
        [2.0, 0.0, 12.0, 10.0],    # IoU 80/120, centres 2 apart, enclosure 12×10
        [3.0, 4.0, 13.0, 14.0],    # overlap 7×6, ρ² = 3² + 4², enclosure 13×14
        [20.0, 0.0, 30.0, 10.0],   # disjoint: IoU 0, ρ² = 20², enclosure 30×10
    ])
    expected = [1.0,
                80 / 120 - 4 / (12**2 + 10**2),
                42 / (200 - 42) - 25 / (13**2 + 14**2),
                0.0 - 400 / (30**2 + 10**2)]
    assert bbox_diou(a, others)[0].tolist() == pytest.approx(expected, rel=1e-6)


def test_bbox_diou_is_symmetric_and_below_iou():
    """DIoU(A, B) = DIoU(B, A)ᵀ and DIoU ≤ IoU, with shape (N, M)."""
    anchors, _ = grid_anchors(img_size=48)
    gts = random_gts(1)
    diou = bbox_diou(anchors, gts)
    assert diou.shape == (anchors.size(0), 3)
    torch.testing.assert_close(diou, bbox_diou(gts, anchors).t())
    assert (diou <= bbox_iou(anchors, gts) + 1e-7).all() and (diou >= -1).all()


def test_atss_candidates_take_topk_per_level():
    """min(topk, anchors on the level) candidates per level, indices inside the level."""
    anchors, num_level = grid_anchors(img_size=64, strides=(8, 16, 32, 64))  # 64, 16, 4, 1
    idxs = atss_candidates(anchors, random_gts(2), num_level, topk=9)
    assert idxs.shape == (9 + 9 + 4 + 1, 3)
    starts = [0, 64, 80, 84]
    for (lo, hi), start, num in zip([(0, 9), (9, 18), (18, 22), (22, 23)], starts,
                                    num_level):
        assert ((idxs[lo:hi] >= start) & (idxs[lo:hi] < start + num)).all()


@pytest.mark.parametrize('seed,topk', [(0, 9), (1, 9), (2, 5)])
def test_atss_threshold_reproduces_mmdet_atss_assigner(seed, topk):
    """Positives rebuilt from our threshold (candidate IoU ≥ mean + std, centre inside the
    GT, highest IoU wins) equal mmdet 3.3's ATSSAssigner assignment."""
    from mmdet.models.task_modules.assigners import ATSSAssigner
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData
    anchors, num_level = grid_anchors()
    gts = random_gts(seed, num=4)
    with DefaultScope.overwrite_default_scope('mmdet'):  # other tests may leave 'mmrazor'
        ref = ATSSAssigner(topk=topk).assign(
            InstanceData(priors=anchors), num_level,
            InstanceData(bboxes=gts, labels=torch.arange(4))).gt_inds

    ious = bbox_iou(anchors, gts)
    cand = atss_candidates(anchors, gts, num_level, topk)
    thr = atss_threshold(ious, cand)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    expected = torch.zeros(anchors.size(0), dtype=torch.long)
    for a in range(anchors.size(0)):
        best = -1.0
        for g in range(gts.size(0)):
            inside = min(centres[a, 0] - gts[g, 0], centres[a, 1] - gts[g, 1],
                         gts[g, 2] - centres[a, 0], gts[g, 3] - centres[a, 1]) > 0.01
            if a in cand[:, g].tolist() and ious[a, g] >= thr[g] and inside \
                    and ious[a, g] > best:
                best, expected[a] = ious[a, g].item(), g + 1
    assert ref.gt(0).any()
    torch.testing.assert_close(ref, expected)


def test_atss_threshold_is_mean_plus_unbiased_std():
    """Threshold = mean + sample (n − 1) standard deviation of the candidate IoUs."""
    ious = torch.tensor([[0.9, 0.1], [0.5, 0.3], [0.2, 0.2], [0.0, 0.6]])
    cand = torch.tensor([[0, 1], [1, 2], [2, 3]])
    expected = [statistics.mean(v) + statistics.stdev(v)
                for v in ([0.9, 0.5, 0.2], [0.3, 0.2, 0.6])]
    assert atss_threshold(ious, cand).tolist() == pytest.approx(expected, rel=1e-6)


def test_vlr_on_hand_made_anchors():
    """GT [0,0,10,10], 10×10 anchors shifted by d: with top-3 candidates d = 0, 2, 4 the
    threshold is mean + std of their IoUs, and exactly the anchors with DIoU in
    [0.25·thr, thr) form the VLR (d = 2 and 4; d = 0 is above, d = 6 below)."""
    shifts = [0.0, 2.0, 4.0, 6.0, 8.0, 20.0]
    anchors, gt = shifted_boxes(shifts), shifted_boxes([0.0])
    iou = [(10 - d) / (10 + d) if d < 10 else 0.0 for d in shifts]
    diou = [i - d**2 / ((10 + d)**2 + 10**2) for i, d in zip(iou, shifts)]
    thr = statistics.mean(iou[:3]) + statistics.stdev(iou[:3])   # ≈ 0.986
    assert bbox_diou(anchors, gt)[:, 0].tolist() == pytest.approx(diou, rel=1e-6)

    for ratio, expected in [(0.25, [False, True, True, False, False, False]),
                            (0.1, [False, True, True, True, False, False]),
                            (0.0, [False, True, True, True, False, False])]:
        assert [ratio * thr <= v < thr for v in diou] == expected  # the hand computation
        mask, gt_inds, ious = vlr_mask(anchors, gt, [6], topk=3, ratio=ratio)
        assert mask.tolist() == expected
        assert gt_inds.tolist() == [0 if m else -1 for m in expected]
        assert ious.tolist() == pytest.approx([i if m else 0.0 for i, m in
                                               zip(iou, expected)], rel=1e-6)


def test_vlr_anchor_shared_by_two_gts_goes_to_higher_iou():
    """An anchor in the VLR of two GTs belongs to the GT it overlaps most."""
    anchors = shifted_boxes([0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0])
    gts = shifted_boxes([0.0, 9.0])
    mask, gt_inds, ious = vlr_mask(anchors, gts, [9], topk=3)
    iou = bbox_iou(anchors, gts)
    shared = [a for a in range(9) if mask[a] and (iou[a] > 0).all()]
    # anchor d=4 lies 4 from GT 0 (IoU 6/14) and 5 from GT 1 (IoU 5/15)
    assert 2 in shared and gt_inds[2].item() == 0
    for a in shared:
        assert gt_inds[a].item() == int(iou[a].argmax())
        assert ious[a].item() == pytest.approx(iou[a].max().item())


@pytest.mark.parametrize('seed', [0, 3])
def test_vlr_matches_brute_force_loop(seed):
    """On multi-level anchors and several GTs, the mask, owners and IoUs equal a loop over
    anchors and GTs using the same DIoU and thresholds."""
    anchors, num_level = grid_anchors()
    gts = random_gts(seed, num=4)
    ious, diou = bbox_iou(anchors, gts), bbox_diou(anchors, gts)
    thr = atss_threshold(ious, atss_candidates(anchors, gts, num_level, 9))
    mask, gt_inds, weights = vlr_mask(anchors, gts, num_level)
    for a in range(anchors.size(0)):
        owners = [g for g in range(4) if 0.25 * thr[g] <= diou[a, g] < thr[g]]
        assert bool(mask[a]) == bool(owners)
        if owners:
            best = max(owners, key=lambda g: ious[a, g].item())
            assert gt_inds[a].item() == best and weights[a].item() == ious[a, best].item()
        else:
            assert gt_inds[a].item() == -1 and weights[a].item() == 0.0
    assert mask.any()


def test_vlr_uses_precomputed_ious():
    """A caller's IoU matrix replaces the internal one: the same matrix gives the same
    result, another matrix another result, a wrongly shaped one an error."""
    anchors, num_level = grid_anchors()
    gts = random_gts(1, num=3)
    ref = vlr_mask(anchors, gts, num_level)
    shared = vlr_mask(anchors, gts, num_level, ious=bbox_iou(anchors, gts))
    for a, b in zip(ref, shared):
        assert torch.equal(a, b)
    assert ref.mask.any()
    # all-zero IoUs: every threshold is 0, every DIoU below it, so no VLR at all
    assert not vlr_mask(anchors, gts, num_level, ious=torch.zeros(len(anchors), 3)).mask.any()
    with pytest.raises(ValueError, match=r'vlr_mask: ious must be .* shape \(%d, 3\), got '
                                         r'\(3, %d\)' % (len(anchors), len(anchors))):
        vlr_mask(anchors, gts, num_level, ious=bbox_iou(gts, anchors))


def test_vlr_without_gts_is_empty():
    """An image without GT boxes has no VLR."""
    anchors, num_level = grid_anchors(img_size=32)
    mask, gt_inds, ious = vlr_mask(anchors, torch.zeros(0, 4), num_level)
    assert mask.shape == (anchors.size(0), ) and not mask.any()
    assert (gt_inds == -1).all() and (ious == 0).all()


def test_bad_inputs_name_function_argument_and_shapes():
    """Wrong box shapes, level counts, topk or ratio fail with explicit messages."""
    anchors, num_level = grid_anchors(img_size=32)
    gts = random_gts(0)
    with pytest.raises(ValueError, match=r'vlr_mask: anchors must have shape \(K, 4\).*'
                                         r'got \(48, 5\)'):
        vlr_mask(torch.zeros(48, 5), gts, num_level)
    with pytest.raises(ValueError, match=r'vlr_mask: gt_bboxes must have shape'):
        vlr_mask(anchors, gts[:, :3], num_level)
    with pytest.raises(ValueError, match=r'vlr_mask: num_level_anchors \[16, 4\] sum to 20, '
                                         r'but anchors has shape \(21, 4\)'):
        vlr_mask(anchors, gts, [16, 4])
    with pytest.raises(ValueError, match=r'vlr_mask: topk'):
        vlr_mask(anchors, gts, num_level, topk=0)
    with pytest.raises(ValueError, match=r'vlr_mask: ratio'):
        vlr_mask(anchors, gts, num_level, ratio=1.5)
    with pytest.raises(ValueError, match=r'bbox_diou|bbox_iou'):
        bbox_diou(torch.zeros(3, 4), torch.zeros(3))


def official_diou_reference(bboxes1, bboxes2, eps=1e-6):
    """Pair-by-pair transcription of mmdet 2's bbox_overlaps(mode='diou') in HikariTJU/LD
    (mmdet/core/bbox/iou_calculators/iou2d_calculator.py, is_aligned=False): the 'diou'
    mode takes union = area1 (as 'iof'), then subtracts rho^2 / c^2."""
    out = torch.zeros(len(bboxes1), len(bboxes2))
    for r, (ax1, ay1, ax2, ay2) in enumerate(bboxes1.tolist()):
        area1 = (ax2 - ax1) * (ay2 - ay1)
        for c, (bx1, by1, bx2, by2) in enumerate(bboxes2.tolist()):
            w = max(min(ax2, bx2) - max(ax1, bx1), 0.0)
            h = max(min(ay2, by2) - max(ay1, by1), 0.0)
            union = max(area1, eps)
            left = ((bx1 + bx2) - (ax1 + ax2))**2 / 4
            right = ((by1 + by2) - (ay1 + ay2))**2 / 4
            ew = max(max(ax2, bx2) - min(ax1, bx1), 0.0)
            eh = max(max(ay2, by2) - min(ay1, by1), 0.0)
            out[r, c] = w * h / union - (left + right) / max(ew**2 + eh**2, eps)
    return out


def test_bbox_diou_official_matches_ld_repository_bbox_overlaps():
    """bbox_diou_official equals the LD repository's 'diou' pair by pair; it is the IoF
    (intersection over the anchor's area) minus the penalty, not the published DIoU."""
    anchors, _ = grid_anchors(img_size=48)
    gts = torch.cat([random_gts(2, img_size=48), torch.tensor([[100., 100., 110., 110.]])])
    official = bbox_diou_official(anchors, gts)
    torch.testing.assert_close(official, official_diou_reference(anchors, gts),
                               rtol=1e-5, atol=1e-6)
    # a 4x4 anchor centred in a 10x10 GT: the whole anchor is covered, so the official
    # value is 16 / 16 = 1 where the DIoU is 16 / 100 (same centre: no penalty)
    small, big = torch.tensor([[3., 3., 7., 7.]]), torch.tensor([[0., 0., 10., 10.]])
    assert bbox_diou_official(small, big).item() == pytest.approx(1.0)   # 16 / 16
    assert bbox_diou(small, big).item() == pytest.approx(0.16)           # 16 / 100


@pytest.mark.parametrize('seed', [0, 3])
def test_vlr_official_iou_matches_brute_force_loop(seed):
    """iou_mode='official': the region tests the LD repository's DIoU (transcribed above)
    against the same IoU thresholds; weights stay IoU. The result differs from 'diou'."""
    anchors, num_level = grid_anchors()
    gts = random_gts(seed, num=4)
    ious, diou = bbox_iou(anchors, gts), official_diou_reference(anchors, gts)
    thr = atss_threshold(ious, atss_candidates(anchors, gts, num_level, 9))
    mask, gt_inds, weights = vlr_mask(anchors, gts, num_level, iou_mode='official')
    for a in range(anchors.size(0)):
        owners = [g for g in range(4) if 0.25 * thr[g] <= diou[a, g] < thr[g]]
        assert bool(mask[a]) == bool(owners)
        if owners:
            best = max(owners, key=lambda g: ious[a, g].item())
            assert gt_inds[a].item() == best and weights[a].item() == ious[a, best].item()
    assert mask.any()
    assert not torch.equal(mask, vlr_mask(anchors, gts, num_level).mask)


def test_vlr_bad_iou_mode_named():
    anchors, num_level = grid_anchors(img_size=32)
    with pytest.raises(ValueError, match=r"vlr_mask: iou_mode must be one of \('diou', "
                                         r"'official'\).*got 'iof'"):
        vlr_mask(anchors, random_gts(0), num_level, iou_mode='iof')
