"""kd_mmdet.CrossKDDistill: the teacher head's remaining layers on the student's head
features, compared with the teacher's own predictions (Wang et al., CVPR 2024)."""
import copy
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.tools import load_tool

from .toy import build_algorithm, det_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
GFL = Config.fromfile(osp.join(REPO, 'configs/crosskd/crosskd_gfl_digits.py'))
RETINA = Config.fromfile(osp.join(REPO, 'configs/crosskd/crosskd_retinanet_digits.py'))
# GFL's box term as the official 9f695b4e branch has it (master's GFL config has none).
GFL_GIOU = dict(type='mmdet.GIoULoss', loss_weight=2.0)


def build(cfg=GFL, **overrides):
    return build_algorithm(cfg, **overrides)


batch = det_batch


def run_step(model):
    """One training forward; returns the losses and what the algorithm computed."""
    model.train()
    seen = {}
    cross = model.cross_head_predictions

    def keep_cross(mid_S, mid_T):
        seen['mid_S'], seen['mid_T'] = mid_S, mid_T
        seen['cross'] = cross(mid_S, mid_T)
        return seen['cross']

    model.cross_head_predictions = keep_cross
    data = batch(model)
    try:
        losses = model(**data, mode='loss')
    finally:
        del model.cross_head_predictions
    return dict(model=model, data=data, losses=losses, **seen)


@pytest.fixture(scope='module', params=['gfl', 'retinanet'])
def step(request):
    if request.param == 'gfl':
        return run_step(build(GFL, loss_bbox_kd=GFL_GIOU))
    return run_step(build(RETINA))


def fpn_features(model, inputs):
    """(student, teacher) FPN maps of ``inputs``, level by level."""
    return list(zip(model.student.extract_feat(inputs), model.teacher.extract_feat(inputs)))


def aligned_by_hand(feat, ref):
    """The official code's statistic matching, written out: per channel over (N, H, W),
    unbiased standard deviations, eps 1e-6 on the student's."""
    out = torch.empty_like(feat)
    for c in range(feat.shape[1]):
        f, r = feat[:, c], ref[:, c]
        out[:, c] = (f - f.mean()) / (f.std() + 1e-6) * r.std() + r.mean()
    return out


def test_cross_head_predictions_are_the_teachers_remaining_layers(step):
    """Student conv-1 output -> connector -> teacher statistics -> ReLU -> the teacher's
    conv 3 and predictors, by hand, equals what the algorithm compared."""
    model = step['model']
    head_S, head_T = model.student.bbox_head, model.teacher.bbox_head
    with torch.no_grad():
        for level, (x_S, x_T) in enumerate(fpn_features(model, step['data']['inputs'])):
            preds = []
            for branch in ('cls', 'reg'):
                mid_S = getattr(head_S, f'{branch}_convs')[0](x_S)  # student_head_idx 1
                convs_T = getattr(head_T, f'{branch}_convs')
                mid_T = x_T
                for conv in convs_T[:3]:  # reused_teacher_head_idx 3
                    mid_T = conv(mid_T)
                feat = model.crosskd_connectors[branch](mid_S)
                feat = F.relu(aligned_by_hand(feat, mid_T))
                preds.append(convs_T[3](feat))
            if hasattr(head_T, 'gfl_cls'):
                expected = (head_T.gfl_cls(preds[0]),
                            head_T.scales[level](head_T.gfl_reg(preds[1])))
            else:
                expected = (head_T.retina_cls(preds[0]), head_T.retina_reg(preds[1]))
            for got, want in zip((step['cross'][0][level], step['cross'][1][level]), expected):
                assert got.shape == want.shape
                assert torch.allclose(got, want, rtol=1e-4, atol=1e-5), level


def test_teacher_predictions_are_the_teacher_heads_own(step):
    """The teacher's predictions the algorithm compares with are mmdet's head forward."""
    model = step['model']
    with torch.no_grad():
        feats = model.teacher.extract_feat(step['data']['inputs'])
        cls_scores, bbox_preds = model.teacher.bbox_head(feats)
        _, cls_T, reg_T = model.teacher_head_forward(feats)
    for a, b in zip(cls_scores + bbox_preds, cls_T + reg_T):
        assert torch.allclose(a, b, atol=1e-6)


def test_each_term_is_logged_separately(step):
    """GFL logs cls, reg (distributions) and bbox terms; RetinaNet cls and bbox; all
    finite and positive for a random student."""
    losses = step['losses']
    names = {k for k in losses if k.startswith('distill.')}
    gfl = hasattr(step['model'].teacher.bbox_head, 'gfl_cls')
    expected = {'distill.loss_crosskd_cls', 'distill.loss_crosskd_bbox'}
    assert names == (expected | {'distill.loss_crosskd_reg'} if gfl else expected)
    for name in names:
        assert torch.isfinite(losses[name]) and losses[name] > 0, name


@pytest.mark.slow
def test_gfl_terms_match_the_formulas():
    """The three GFL terms, recomputed row by row from the compared predictions: QFL
    (beta 1) over the student's positives, KL summed over bins and GIoU, both weighted
    by the teacher's top class probability and divided by its sum."""
    out = run_step(build(GFL, loss_bbox_kd=GFL_GIOU))
    model, losses = out['model'], out['losses']
    head = model.teacher.bbox_head
    with torch.no_grad():
        _, cls_T, reg_T = model.teacher_head_forward(
            model.teacher.extract_feat(out['data']['inputs']))
    cls_S, reg_S = out['cross']

    def rows(maps, width):
        return torch.cat([m.permute(0, 2, 3, 1).reshape(-1, width) for m in maps]).double()

    s_cls, t_cls = rows(cls_S, 10), rows(cls_T, 10)
    s_reg, t_reg = rows(reg_S, 68), rows(reg_T, 68)
    # The student's positives (ATSS) for the normaliser: its own GFL loss is QFL / N_pos.
    feats = model.student.extract_feat(out['data']['inputs'])
    samples = out['data']['data_samples']
    anchors, valid = model.student.bbox_head.get_anchors(
        [f.shape[-2:] for f in feats], [s.metainfo for s in samples], device='cpu')
    targets = model.student.bbox_head.get_targets(
        anchors, valid, [s.gt_instances for s in samples], [s.metainfo for s in samples])
    num_pos = max(float(targets[-1]), 1.0)

    priors = head.prior_generator.grid_priors([m.shape[-2:] for m in cls_T], device='cpu')
    centers, strides = [], []
    for level, p in enumerate(priors):
        for _ in range(cls_T[0].shape[0]):
            centers += head.anchor_center(p).tolist()
            strides += [head.prior_generator.strides[level][0]] * len(p)
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731

    def softmax(xs):
        z = [math.exp(x - max(xs)) for x in xs]
        return [v / sum(z) for v in z]

    cls_sum = kl_sum = giou_sum = weight_sum = 0.0
    for r, (row_S, row_T) in enumerate(zip(s_cls.tolist(), t_cls.tolist())):
        for x_s, x_t in zip(row_S, row_T):
            p, q = sigmoid(x_s), sigmoid(x_t)
            cls_sum += -(q * math.log(p) + (1 - q) * math.log(1 - p)) * abs(p - q)
        w = sigmoid(max(row_T))  # the teacher's top class probability
        weight_sum += w
        edges_S, edges_T = s_reg[r].view(4, 17).tolist(), t_reg[r].view(4, 17).tolist()
        dists = [[], []]
        for e in range(4):
            ps, pt = softmax(edges_S[e]), softmax(edges_T[e])
            kl_sum += w * sum(b * math.log(b / a) for a, b in zip(ps, pt)) / 4
            # Expected distance of each edge (GFL's integral), in pixels.
            dists[0].append(sum(i * v for i, v in enumerate(ps)) * strides[r])
            dists[1].append(sum(i * v for i, v in enumerate(pt)) * strides[r])
        cx, cy = centers[r]
        boxes = [(cx - d[0], cy - d[1], cx + d[2], cy + d[3]) for d in dists]
        giou_sum += w * (1 - giou_by_hand(*boxes))
    weight = {k: GFL.model[k].loss_weight for k in ('loss_cls_kd', 'loss_reg_kd')}
    weight['loss_bbox_kd'] = GFL_GIOU['loss_weight']
    assert losses['distill.loss_crosskd_cls'].item() == pytest.approx(
        weight['loss_cls_kd'] * cls_sum / num_pos, rel=1e-4)
    assert losses['distill.loss_crosskd_reg'].item() == pytest.approx(
        weight['loss_reg_kd'] * kl_sum / weight_sum, rel=1e-4)
    assert losses['distill.loss_crosskd_bbox'].item() == pytest.approx(
        weight['loss_bbox_kd'] * giou_sum / weight_sum, rel=1e-4)


def giou_by_hand(a, b):
    """Generalised IoU of two xyxy boxes (Rezatofighi et al., CVPR 2019), eps 1e-6."""
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])  # noqa: E731
    union = area(a) + area(b) - inter
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    iou = inter / (union + 1e-6)
    return iou - (hull - union) / (hull + 1e-6)


def test_no_gradient_into_the_teacher_and_none_past_the_index():
    """The CrossKD terms reach the student's layers up to the index (and the connector)
    but neither the teacher nor the student's layers after the index: those are trained
    by the detection loss alone, which is the point of the method."""
    model = build(GFL)
    out = run_step(model)
    distill = sum(v for k, v in out['losses'].items() if k.startswith('distill.'))
    distill.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(not p.requires_grad for p in model.teacher.parameters())
    head = model.student.bbox_head
    for module in (head.cls_convs[0], head.reg_convs[0], model.student.neck,
                   model.crosskd_connectors):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    for module in (head.cls_convs[1], head.reg_convs[1], head.gfl_cls, head.gfl_reg):
        assert all(p.grad is None for p in module.parameters())


@pytest.mark.slow
@pytest.mark.parametrize('index', [0, 4])
def test_other_indices_feed_the_teacher_head_from_there(index):
    """Index 0: the student's FPN maps through the whole teacher head; index 4 (of 4):
    the student's last conv output into the teacher's predictors only."""
    model = build(GFL, reused_teacher_head_idx=index, student_head_idx=min(index, 2))
    out = run_step(model)
    head_S, head_T = model.student.bbox_head, model.teacher.bbox_head
    with torch.no_grad():
        x_S = model.student.extract_feat(out['data']['inputs'])[0]
        x_T = model.teacher.extract_feat(out['data']['inputs'])[0]
        mid_S = x_S if index == 0 else head_S.cls_convs[1](head_S.cls_convs[0](x_S))
        mid_T = x_T
        for conv in head_T.cls_convs[:index]:
            mid_T = conv(mid_T)
        feat = aligned_by_hand(model.crosskd_connectors['cls'](mid_S), mid_T)
        if index > 0:
            feat = F.relu(feat)
        for conv in head_T.cls_convs[index:]:
            feat = conv(feat)
        expected = head_T.gfl_cls(feat)
    assert torch.allclose(out['cross'][0][0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_student_exports_as_a_plain_mmdet_detector(tmp_path):
    """After a training step, tools/export_student.py keeps the student only (no
    connector or teacher key) and a plain GFL built from the student config loads it
    strictly and predicts as the student inside the distiller does."""
    export = load_tool('tools/export_student.py')
    model = build(GFL)
    out = run_step(model)
    sum(v.sum() if torch.is_tensor(v) else sum(v) for v in out['losses'].values()).backward()
    kept, dropped = export.split_state_dict(model.state_dict())
    assert not any('crosskd' in k or k.startswith('teacher.') for k in kept)
    assert dropped.get('crosskd_connectors.', 0) == 4
    init_default_scope('mmdet')
    from mmdet.registry import MODELS as DET_MODELS
    student_cfg = Config.fromfile(osp.join(REPO, 'configs/toy/gfl_student_digits.py'))
    plain = DET_MODELS.build(student_cfg.model)
    plain.load_state_dict(kept, strict=True)
    plain.eval()
    model.eval()
    with torch.no_grad():
        a = plain(out['data']['inputs'], mode='tensor')
        b = model.student(out['data']['inputs'], mode='tensor')
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        assert torch.equal(x, y)


def test_different_widths_need_a_connector():
    """The toy heads are 64 and 128 wide: without connector the error names both widths,
    the index and the connector to add."""
    with pytest.raises(ValueError, match=r'CrossKDDistill: the student head is 64 channels '
                                         r'wide after 1 convs, the teacher head expects 128 '
                                         r'at index 3; add connector=.*ConvModuleConnector'
                                         r'.*in_channel=64, out_channel=128'):
        build(GFL, connector=None)


def test_different_anchors_are_rejected():
    """A student with other anchor sizes, strides or classes fails at construction."""
    cfg = copy.deepcopy(GFL.model.to_dict())
    student = cfg['architecture']
    student['bbox_head']['anchor_generator']['octave_base_scale'] = 8
    with pytest.raises(ValueError, match=r'student and teacher anchors differ'):
        build(GFL, architecture=student)
    student = copy.deepcopy(cfg['architecture'])
    student['bbox_head']['anchor_generator']['strides'] = [4, 8, 16, 32, 64]
    with pytest.raises(ValueError, match=r'differ in anchor strides: \[\(4, 4\)'):
        build(GFL, architecture=student)
    student = copy.deepcopy(cfg['architecture'])
    student['bbox_head']['num_classes'] = 5
    with pytest.raises(ValueError, match=r'differ in classes \(cls_out_channels\): 5 vs 10'):
        build(GFL, architecture=student)


def test_bad_indices_and_head_pairs_are_rejected():
    """Indices outside the heads, mixed head types, a distribution loss on RetinaNet
    and a trainable teacher each fail naming the argument."""
    with pytest.raises(ValueError, match=r'reused_teacher_head_idx=5 is outside \[0, 4\]'):
        build(GFL, reused_teacher_head_idx=5)
    with pytest.raises(ValueError, match=r'student_head_idx=3 is outside \[0, 2\].*'
                                         r'student head has 2 stacked convs\); set '
                                         r'student_head_idx'):
        build(GFL, student_head_idx=None)
    with pytest.raises(ValueError, match=r'student head RetinaHead vs teacher head GFLHead'):
        build(GFL, architecture=RETINA.model.architecture.to_dict())
    with pytest.raises(ValueError, match=r'loss_reg_kd compares GFL box distributions; a '
                                         r'RetinaHead has none'):
        build(RETINA, loss_reg_kd=dict(type='kd_mmdet.DistributionKLLoss'))
    with pytest.raises(ValueError, match=r'teacher_trainable=True is not supported'):
        build(GFL, teacher_trainable=True)


@pytest.mark.slow
def test_loss_weights_are_config_arguments():
    """A term's weight comes from its loss config: doubling it doubles the term; None
    removes it."""
    a = run_step(build(GFL, loss_bbox_kd=GFL_GIOU))['losses']
    reg = GFL.model.loss_reg_kd.to_dict()
    b = run_step(build(GFL, loss_reg_kd=dict(reg, loss_weight=2 * reg['loss_weight']),
                       loss_bbox_kd=None))['losses']
    assert b['distill.loss_crosskd_reg'].item() == pytest.approx(
        2 * a['distill.loss_crosskd_reg'].item(), rel=1e-5)
    assert 'distill.loss_crosskd_bbox' not in b
    assert math.isclose(a['distill.loss_crosskd_cls'].item(),
                        b['distill.loss_crosskd_cls'].item(), rel_tol=1e-6)


# ---- the official forward, run on mmcv's own modules -----------------------------------
# A transcription of jbwang1997/CrossKD master 87e156a4 (mmdet/models/detectors/
# crosskd_gfl.py: forward_crosskd_single, reuse_teacher_head, align_scale), line for
# line, called with the heads' real mmcv ConvModules: whatever those modules do in place
# happens here as it does in the official run.
def official_forward_crosskd_single(head, x, reused_teacher_head_idx):
    cls_feat, reg_feat = x, x
    cls_feat_hold, reg_feat_hold = x, x
    for i, cls_conv in enumerate(head.cls_convs):
        cls_feat = cls_conv(cls_feat, activate=False)
        if i + 1 == reused_teacher_head_idx:
            cls_feat_hold = cls_feat
        cls_feat = cls_conv.activate(cls_feat)
    for i, reg_conv in enumerate(head.reg_convs):
        reg_feat = reg_conv(reg_feat, activate=False)
        if i + 1 == reused_teacher_head_idx:
            reg_feat_hold = reg_feat
        reg_feat = reg_conv.activate(reg_feat)
    return cls_feat_hold, reg_feat_hold


def official_align_scale(stu_feat, tea_feat):
    N, C, H, W = stu_feat.size()
    stu_feat = stu_feat.permute(1, 0, 2, 3).reshape(C, -1)
    stu_mean = stu_feat.mean(dim=-1, keepdim=True)
    stu_std = stu_feat.std(dim=-1, keepdim=True)
    stu_feat = (stu_feat - stu_mean) / (stu_std + 1e-6)
    tea_feat = tea_feat.permute(1, 0, 2, 3).reshape(C, -1)
    tea_mean = tea_feat.mean(dim=-1, keepdim=True)
    tea_std = tea_feat.std(dim=-1, keepdim=True)
    stu_feat = stu_feat * tea_std + tea_mean
    return stu_feat.reshape(C, N, H, W).permute(1, 0, 2, 3)


def official_reuse_teacher_head(head_T, tea_cls_feat, tea_reg_feat, stu_cls_feat,
                                stu_reg_feat, scale, reused_teacher_head_idx):
    reused_cls_feat = official_align_scale(stu_cls_feat, tea_cls_feat)
    reused_reg_feat = official_align_scale(stu_reg_feat, tea_reg_feat)
    if reused_teacher_head_idx != 0:
        reused_cls_feat = F.relu(reused_cls_feat)
        reused_reg_feat = F.relu(reused_reg_feat)
    for i in range(reused_teacher_head_idx, head_T.stacked_convs):
        reused_cls_feat = head_T.cls_convs[i](reused_cls_feat)
        reused_reg_feat = head_T.reg_convs[i](reused_reg_feat)
    return head_T.gfl_cls(reused_cls_feat), scale(head_T.gfl_reg(reused_reg_feat)).float()


def same_width_pair(copy_of_teacher=False, **overrides):
    """The toy GFL pair with a student head as wide and deep as the teacher's (the
    official pairs' shape: no connector, one index for both; with ``copy_of_teacher``
    the whole student is the teacher's architecture), every GroupNorm of both heads with
    a bias of mean 0.5 (a trained head's norms are far from zero-mean)."""
    student = copy.deepcopy(GFL.model.architecture.to_dict())
    teacher = GFL.model.teacher.to_dict()
    student['neck']['out_channels'] = teacher['neck']['out_channels']
    student['bbox_head'] = copy.deepcopy(teacher['bbox_head'])
    if copy_of_teacher:  # BN on running statistics, as the frozen teacher's
        student = dict(copy.deepcopy(teacher), backbone=dict(teacher['backbone'],
                                                             norm_eval=True))
    model = build(GFL, architecture=student, student_head_idx=None, connector=None,
                  **overrides)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for head in (model.student.bbox_head, model.teacher.bbox_head):
            for conv in list(head.cls_convs) + list(head.reg_convs):
                conv.norm.bias.copy_(0.5 + 0.5 * torch.randn(conv.norm.bias.shape, generator=g))
    return model


@pytest.mark.parametrize('pre_activation', [False, True])
def test_cross_head_predictions_equal_the_official_forward(pre_activation):
    """Our cross-head predictions equal the transcribed official forward run on the same
    mmcv modules, level by level; with pre_activation=True they equal the same forward
    with the kept tensors cloned before mmcv's in-place ReLU can overwrite them (the
    code as written)."""
    model = same_width_pair(pre_activation=pre_activation)
    out = run_step(model)
    head_S, head_T = model.student.bbox_head, model.teacher.bbox_head
    with torch.no_grad():
        for level, (x_S, x_T) in enumerate(fpn_features(model, out['data']['inputs'])):
            holds = []
            for head, x in ((head_T, x_T), (head_S, x_S)):
                if pre_activation:  # keep a copy: the in-place ReLU cannot reach it
                    for conv in list(head.cls_convs) + list(head.reg_convs):
                        conv.activate.inplace = False
                try:
                    holds += official_forward_crosskd_single(head, x, 3)
                finally:
                    for conv in list(head.cls_convs) + list(head.reg_convs):
                        conv.activate.inplace = True
            cls, reg = official_reuse_teacher_head(head_T, *holds, head_T.scales[level], 3)
            assert torch.allclose(out['cross'][0][level], cls, rtol=1e-4, atol=1e-5), level
            assert torch.allclose(out['cross'][1][level], reg, rtol=1e-4, atol=1e-5), level


def test_the_official_forward_keeps_the_feature_after_the_activation():
    """mmcv's ConvModule ReLU is in place: the tensor the official forward keeps before
    calling ``activate`` holds the activation's output afterwards (why the default,
    pre_activation=False, aligns post-activation features)."""
    model = same_width_pair()
    head = model.teacher.bbox_head
    assert head.cls_convs[2].activate.inplace
    x = model.teacher.extract_feat(batch(model)['inputs'])[0]
    with torch.no_grad():
        hold, _ = official_forward_crosskd_single(head, x, 3)
        before = x
        for conv in head.cls_convs[:2]:
            before = conv(before)
        pre = head.cls_convs[2](before, activate=False)
    assert (pre < 0).float().mean() > 0.1  # the ReLU has work to do
    assert torch.equal(hold, F.relu(pre))


def test_a_per_channel_shift_before_the_activation_is_aligned_away():
    """A student equal to the teacher but for a constant per channel added to the norm
    bias of its conv before the index: with pre_activation=True its cross-head
    predictions are the teacher's (the alignment removes the shift), so the KL term is
    ~0; after the activation (the default) the shift survives the ReLU and they differ."""
    terms = {}
    for pre_activation in (True, False):
        model = same_width_pair(copy_of_teacher=True, pre_activation=pre_activation)
        model.student.load_state_dict(model.teacher.state_dict())
        g = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for convs in (model.student.bbox_head.cls_convs, model.student.bbox_head.reg_convs):
                bias = convs[2].norm.bias
                bias.add_(torch.randn(bias.shape, generator=g))
        out = run_step(model)
        with torch.no_grad():
            _, cls_T, reg_T = model.teacher_head_forward(
                model.teacher.extract_feat(out['data']['inputs']))
        diff = max((a - b).abs().max().item() for a, b in
                   zip(out['cross'][0] + out['cross'][1], cls_T + reg_T))
        terms[pre_activation] = diff, out['losses']['distill.loss_crosskd_reg'].item()
    assert terms[True][0] < 1e-3 and terms[True][1] < 1e-6
    assert terms[False][0] > 0.1 and terms[False][1] > 1e-3
