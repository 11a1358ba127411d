"""kd_mmdet.LDHeadLoss: LD main + VLR + class KD (+ imitation) on GFL head outputs."""
import math

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import InstanceData

from kd_mmdet.models.losses import LDHeadLoss, finegrained_region
from kd_mmdet.models.utils import bbox_iou, vlr_mask

NUM_CLASSES, REG_MAX, STRIDES, IMG = 3, 7, (8, 16), 64
GT = torch.tensor([[4., 6., 30., 34.], [30., 20., 60., 62.]])


def gfl_head(head_type='GFLHead', **kwargs):
    """A small mmdet GFL-style head on two levels (8x8 and 4x4 for a 64 px image)."""
    init_default_scope('mmdet')
    cfg = dict(type=head_type, num_classes=NUM_CLASSES, in_channels=32, feat_channels=32,
               stacked_convs=1, reg_max=REG_MAX,
               anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=4,
                                     scales_per_octave=1, strides=list(STRIDES)),
               loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0,
                             loss_weight=1.0),
               loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
               loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
               train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1,
                              pos_weight=-1, debug=False), **kwargs)
    return MODELS.build(cfg)


def head_inputs(seed=0, n=2):
    """Random student/teacher head outputs, the head's own targets, and data samples."""
    g = torch.Generator().manual_seed(seed)
    sizes = [IMG // s for s in STRIDES]
    cls_S = [torch.randn(n, NUM_CLASSES, h, h, generator=g) for h in sizes]
    cls_T = [torch.randn(n, NUM_CLASSES, h, h, generator=g) for h in sizes]
    reg_S = [torch.randn(n, 4 * (REG_MAX + 1), h, h, generator=g) for h in sizes]
    reg_T = [torch.randn(n, 4 * (REG_MAX + 1), h, h, generator=g) for h in sizes]
    samples, gts, metas = [], [], []
    for i in range(n):
        meta = dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), batch_input_shape=(IMG, IMG))
        gt = InstanceData(bboxes=GT[: i + 1].clone(), labels=torch.tensor([0, 2][: i + 1]))
        sample = DetDataSample(metainfo=meta)
        sample.gt_instances = gt
        samples.append(sample)
        gts.append(gt)
        metas.append(meta)
    head = gfl_head()
    anchor_list, valid = head.get_anchors([c.shape[-2:] for c in cls_S], metas, device='cpu')
    anchors, labels = head.get_targets(anchor_list, valid, gts, metas)[:2]
    return dict(cls_scores_S=cls_S, bbox_preds_S=reg_S, cls_scores_T=cls_T, bbox_preds_T=reg_T,
                anchors=anchors, labels=labels, data_samples=samples), gts, metas


def rows(maps, n, k):
    """Per level (N, K, H, W) -> list of (N, H*W, K) — the head's location order."""
    return [m.permute(0, 2, 3, 1).reshape(n, -1, k) for m in maps]


def kl_mean(s_logits, t_logits, T):
    """Slow KL(softmax(t/T) || softmax(s/T)) * T^2, averaged over the bins (mmdet's LD)."""
    p_t = [math.exp(v / T) for v in t_logits]
    p_s = [math.exp(v / T) for v in s_logits]
    zt, zs = sum(p_t), sum(p_s)
    return sum(a / zt * math.log((a / zt) / (b / zs)) for a, b in zip(p_t, p_s)) * T * T \
        / len(s_logits)


def slow_terms(inp, tau=10.0, kd_T=2.0, vlr_weights=None):
    """Loop-by-loop transcription of the official LDHead's main, VLR and KD terms
    (``vlr_weights``: per-image VLR weights over all anchors, instead of vlr_mask's)."""
    n = inp['labels'][0].size(0)
    bins = REG_MAX + 1
    cls_S = rows(inp['cls_scores_S'], n, NUM_CLASSES)
    cls_T = rows(inp['cls_scores_T'], n, NUM_CLASSES)
    reg_S = rows(inp['bbox_preds_S'], n, 4 * bins)
    reg_T = rows(inp['bbox_preds_T'], n, 4 * bins)
    num_level = [a.size(1) for a in inp['anchors']]
    vlr_w = []
    for i, sample in enumerate(inp['data_samples']):
        flat = torch.cat([a[i] for a in inp['anchors']])
        vlr_w.append(vlr_mask(flat, sample.gt_instances.bboxes, num_level).ious
                     if vlr_weights is None else vlr_weights[i])
    vlr_w = torch.stack(vlr_w).split(num_level, dim=1)
    main = vlr = kd = 0.0
    for lvl in range(len(num_level)):
        num_pos, kd_level = 0, 0.0
        for i in range(n):
            for a in range(num_level[lvl]):
                label = int(inp['labels'][lvl][i, a])
                edges = [(reg_S[lvl][i, a, e * bins:(e + 1) * bins].tolist(),
                          reg_T[lvl][i, a, e * bins:(e + 1) * bins].tolist()) for e in range(4)]
                if 0 <= label < NUM_CLASSES:
                    num_pos += 1
                    w = max(1 / (1 + math.exp(-v)) for v in cls_S[lvl][i, a].tolist())
                    main += sum(w * kl_mean(s, t, tau) for s, t in edges) / 4
                    kd_level += kl_mean(cls_S[lvl][i, a].tolist(), cls_T[lvl][i, a].tolist(),
                                        kd_T)
                w_vlr = float(vlr_w[lvl][i, a])
                if w_vlr > 0:
                    vlr += sum(w_vlr * kl_mean(s, t, tau) for s, t in edges) / 16
        if num_pos:
            kd += kd_level / num_pos
    return main, vlr, kd


def test_terms_match_slow_transcription():
    """main, vlr and kd equal the loop-by-loop official formulas at two weightings."""
    inp, _, _ = head_inputs()
    main, vlr, kd = slow_terms(inp)
    assert main > 0 and vlr > 0 and kd > 0  # the batch has positives and VLR anchors
    for w_main, w_vlr, w_kd in ((0.25, 0.25, 10.0), (1.0, 0.5, 2.0)):
        out = LDHeadLoss(loss_weight=w_main, vlr_weight=w_vlr, kd_weight=w_kd)(**inp)
        assert set(out) == {'main', 'vlr', 'kd'}
        assert out['main'].item() == pytest.approx(w_main * main, rel=1e-5)
        assert out['vlr'].item() == pytest.approx(w_vlr * vlr, rel=1e-5)
        assert out['kd'].item() == pytest.approx(w_kd * kd, rel=1e-5)


def test_main_term_equals_mmdet_ldhead():
    """On the same outputs and assignment, `main` equals mmdet 3.3 LDHead's loss_ld."""
    inp, gts, metas = head_inputs(seed=3)
    head = gfl_head('LDHead', loss_ld=dict(type='KnowledgeDistillationKLDivLoss',
                                           loss_weight=0.25, T=10))
    ref = head.loss_by_feat(inp['cls_scores_S'], inp['bbox_preds_S'], gts, metas,
                            inp['bbox_preds_T'])
    ours = LDHeadLoss(vlr_weight=0.0, kd_weight=0.0)(**inp)
    assert set(ours) == {'main'}
    assert ours['main'].item() == pytest.approx(sum(ref['loss_ld']).item(), rel=1e-5)


def test_zero_when_student_equals_teacher():
    """Every term vanishes when the student's head outputs are the teacher's."""
    inp, _, _ = head_inputs(seed=1)
    inp['cls_scores_T'] = [c.clone() for c in inp['cls_scores_S']]
    inp['bbox_preds_T'] = [r.clone() for r in inp['bbox_preds_S']]
    out = LDHeadLoss()(**inp)
    assert all(abs(v.item()) < 1e-6 for v in out.values()), out


def test_gradient_reaches_student_not_teacher():
    """Gradients flow into the student's logits only, and are finite."""
    inp, _, _ = head_inputs(seed=2)
    for key in ('cls_scores_S', 'bbox_preds_S', 'cls_scores_T', 'bbox_preds_T'):
        inp[key] = [t.requires_grad_() for t in inp[key]]
    sum(LDHeadLoss()(**inp).values()).backward()
    for key in ('bbox_preds_S', 'cls_scores_S'):
        grads = [t.grad for t in inp[key] if t.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads), key
        assert sum(g.abs().sum() for g in grads) > 0, key
    assert all(t.grad is None for t in inp['bbox_preds_T'] + inp['cls_scores_T'])


def test_no_gt_boxes_gives_zero_terms():
    """Images without GT have no positives and no VLR: zero terms, no NaN."""
    inp, _, _ = head_inputs()
    inp['labels'] = [torch.full_like(lab, NUM_CLASSES) for lab in inp['labels']]
    for sample in inp['data_samples']:
        sample.gt_instances = InstanceData(bboxes=torch.zeros(0, 4),
                                           labels=torch.zeros(0, dtype=torch.long))
    out = LDHeadLoss()(**inp)
    assert all(v.item() == 0.0 for v in out.values())


def test_fp16_maps_at_extreme_values_give_finite_terms():
    """fp16 edge logits of -1e4 (their fp16 sum overflows): finite terms, no NaN."""
    inp, _, _ = head_inputs()
    for key in ('cls_scores_S', 'bbox_preds_S', 'cls_scores_T', 'bbox_preds_T'):
        inp[key] = [torch.full_like(t, -1e4, dtype=torch.float16) for t in inp[key]]
    out = LDHeadLoss()(**inp)
    assert all(torch.isfinite(v) for v in out.values()), out


def test_imitation_on_finegrained_region():
    """`im` is the MSE of student and teacher features over the fine-grained locations."""
    inp, _, _ = head_inputs(seed=4)
    g = torch.Generator().manual_seed(5)
    feats_S = [torch.randn(2, 6, IMG // s, IMG // s, generator=g) for s in STRIDES]
    feats_T = [torch.randn(2, 6, IMG // s, IMG // s, generator=g) for s in STRIDES]
    out = LDHeadLoss(loss_weight=0.0, vlr_weight=0.0, kd_weight=0.0, im_weight=2.0)(
        **inp, feats_S=feats_S, feats_T=feats_T)
    assert set(out) == {'im'}
    expected = 0.0
    num_level = [a.size(1) for a in inp['anchors']]
    # Per level, the MSE is taken over all images' selected locations together.
    for lvl in range(len(STRIDES)):
        sel_s, sel_t = [], []
        for i, sample in enumerate(inp['data_samples']):
            flat = torch.cat([a[i] for a in inp['anchors']])
            m = finegrained_region(flat, sample.gt_instances.bboxes).split(num_level)[lvl]
            sel_s.append(rows([feats_S[lvl]], 2, 6)[0][i][m])
            sel_t.append(rows([feats_T[lvl]], 2, 6)[0][i][m])
        s, t = torch.cat(sel_s), torch.cat(sel_t)
        if len(s):
            expected += ((s - t) ** 2).mean().item()
    assert out['im'].item() == pytest.approx(2.0 * expected, rel=1e-5)


def test_vlr_and_imitation_together_share_one_iou_per_image(monkeypatch):
    """With VLR and imitation both on, each term equals the term computed alone, and the
    anchor-GT IoU is computed once per image for both regions."""
    inp, _, _ = head_inputs(seed=4)
    g = torch.Generator().manual_seed(5)
    feats = {k: [torch.randn(2, 6, IMG // s, IMG // s, generator=g) for s in STRIDES]
             for k in ('feats_S', 'feats_T')}
    both = LDHeadLoss(loss_weight=0.0, vlr_weight=1.0, kd_weight=0.0, im_weight=2.0)
    out = both(**inp, **feats)
    vlr_only = LDHeadLoss(loss_weight=0.0, vlr_weight=1.0, kd_weight=0.0)(**inp)
    im_only = LDHeadLoss(loss_weight=0.0, vlr_weight=0.0, kd_weight=0.0, im_weight=2.0)(
        **inp, **feats)
    assert out['vlr'].item() == pytest.approx(vlr_only['vlr'].item(), rel=1e-6)
    assert out['im'].item() == pytest.approx(im_only['im'].item(), rel=1e-6)
    assert out['vlr'].item() > 0 and out['im'].item() > 0

    import kd_mmdet.models.losses.ld_head_loss as ld_mod
    import kd_mmdet.models.utils.vlr as vlr_mod
    calls = []

    def counting_iou(a, b):
        calls.append(1)
        return bbox_iou(a, b)

    monkeypatch.setattr(ld_mod, 'bbox_iou', counting_iou)
    monkeypatch.setattr(vlr_mod, 'bbox_iou', counting_iou)
    both(**inp, **feats)
    assert len(calls) == len(inp['data_samples'])


def test_finegrained_region_on_hand_made_anchors():
    """Anchors above half of a GT's best IoU are selected, others not."""
    gt = torch.tensor([[0., 0., 10., 10.]])
    anchors = torch.tensor([[0., 0., 10., 10.],   # IoU 1 (best)
                            [0., 0., 10., 6.],    # IoU 0.6 > 0.5
                            [0., 0., 10., 4.],    # IoU 0.4 < 0.5
                            [20., 20., 30., 30.]])  # IoU 0
    assert bbox_iou(anchors, gt)[:, 0].tolist() == pytest.approx([1.0, 0.6, 0.4, 0.0])
    assert finegrained_region(anchors, gt).tolist() == [True, True, False, False]
    # a caller's IoU matrix is used as given
    ious = torch.tensor([[1.0], [0.2], [0.9], [0.0]])
    assert finegrained_region(anchors, gt, ious=ious).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match=r'finegrained_region: ious .* \(4, 1\), got \(1, 4\)'):
        finegrained_region(anchors, gt, ious=ious.T)


def test_bad_inputs_raise_with_names_and_shapes():
    """Mismatched shapes, missing GT and bad hyper-parameters are refused clearly."""
    inp, _, _ = head_inputs()
    bad = dict(inp, bbox_preds_T=[r[:, :8] for r in inp['bbox_preds_T']])
    with pytest.raises(ValueError, match=r'LDHeadLoss: bbox_preds level 0: student \(2, 32'):
        LDHeadLoss()(**bad)
    with pytest.raises(ValueError, match='need data_samples'):
        LDHeadLoss()(**dict(inp, data_samples=None))
    feats_T = [torch.zeros(2, 6, IMG // s, IMG // s) for s in STRIDES]
    feats_S = [torch.zeros(2, 4, IMG // s, IMG // s) for s in STRIDES]
    im = LDHeadLoss(im_weight=1.0)
    with pytest.raises(ValueError, match=r"LDHeadLoss: feats level 0: student \(2, 4, .*\) "
                                         r"vs teacher \(2, 6, .*\) — add a connector"):
        im(**inp, feats_S=feats_S, feats_T=feats_T)
    with pytest.raises(ValueError, match=r'feats_S and feats_T have 1 and 2 levels, '
                                         r'cls_scores_S has 2'):
        im(**inp, feats_S=feats_S[:1], feats_T=feats_T)
    with pytest.raises(ValueError, match='labels'):
        LDHeadLoss()(**dict(inp, labels=[lab[:, :3] for lab in inp['labels']]))
    with pytest.raises(ValueError, match='tau'):
        LDHeadLoss(tau=0)
    with pytest.raises(ValueError, match='vlr_weight'):
        LDHeadLoss(vlr_weight=-1)
    with pytest.raises(ValueError, match='vlr_ratio'):
        LDHeadLoss(vlr_ratio=1.5)


def test_builds_from_registry():
    """`kd_mmdet.LDHeadLoss` resolves from mmrazor's registry."""
    from mmrazor.registry import MODELS as RAZOR
    loss = RAZOR.build(dict(type='kd_mmdet.LDHeadLoss', kd_weight=3.0))
    assert isinstance(loss, LDHeadLoss) and loss.kd_weight == 3.0


def official_vlr_weights(inp):
    """Per image, the official get_vlr_region's weights, anchor by anchor: IoU with the GT
    of highest IoU among those whose LD-repository 'diou' (intersection over the anchor's
    area minus rho^2 / c^2) lies in [0.25 thr, thr)."""
    from kd_mmdet.models.utils import atss_candidates, atss_threshold
    num_level = [a.size(1) for a in inp['anchors']]
    out = []
    for i, sample in enumerate(inp['data_samples']):
        flat = torch.cat([a[i] for a in inp['anchors']])
        gts = sample.gt_instances.bboxes
        ious = bbox_iou(flat, gts)
        thr = atss_threshold(ious, atss_candidates(flat, gts, num_level, 9)).tolist()
        w = torch.zeros(len(flat))
        for a, (ax1, ay1, ax2, ay2) in enumerate(flat.tolist()):
            best = -1.0
            for g, (bx1, by1, bx2, by2) in enumerate(gts.tolist()):
                inter = (max(min(ax2, bx2) - max(ax1, bx1), 0.0)
                         * max(min(ay2, by2) - max(ay1, by1), 0.0))
                rho2 = (((bx1 + bx2) - (ax1 + ax2))**2 + ((by1 + by2) - (ay1 + ay2))**2) / 4
                c2 = (max(ax2, bx2) - min(ax1, bx1))**2 + (max(ay2, by2) - min(ay1, by1))**2
                d = inter / max((ax2 - ax1) * (ay2 - ay1), 1e-6) - rho2 / max(c2, 1e-6)
                if 0.25 * thr[g] <= d < thr[g]:
                    best = max(best, float(ious[a, g]))
            w[a] = max(best, 0.0)
        out.append(w)
    return out


def test_official_vlr_iou_matches_slow_transcription():
    """vlr_iou='official' gives the VLR term of the official code's region; main and kd
    are unchanged, and the VLR term differs from the published-DIoU one."""
    inp, _, _ = head_inputs()
    main, vlr, kd = slow_terms(inp, vlr_weights=official_vlr_weights(inp))
    assert vlr > 0
    out = LDHeadLoss(vlr_iou='official')(**inp)
    paper = LDHeadLoss()(**inp)
    assert out['vlr'].item() == pytest.approx(0.25 * vlr, rel=1e-5)
    assert out['main'].item() == pytest.approx(paper['main'].item(), rel=1e-6)
    assert out['kd'].item() == pytest.approx(paper['kd'].item(), rel=1e-6)
    assert out['vlr'].item() != pytest.approx(paper['vlr'].item(), rel=1e-3)


def test_bad_vlr_iou_named():
    with pytest.raises(ValueError, match=r"LDHeadLoss: vlr_iou must be one of \('diou', "
                                         r"'official'\).*got 'giou'"):
        LDHeadLoss(vlr_iou='giou')
    assert LDHeadLoss().vlr_iou == 'diou'
