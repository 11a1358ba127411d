"""Property-based tests (hypothesis) over the inputs of every kd_mmdet loss.

For any shape, any hyper-parameter in range, logits anywhere in [-1e4, 1e4] (the ends
drawn often), fp32/fp16/bf16 inputs, and — for the detection losses — images without
boxes and boxes partly or wholly outside the image: every returned term is finite and
(but for LogSum, a logarithm) non-negative, equals the term of the same values given in
fp32 (low-precision inputs are upcast before any arithmetic), the gradient reaching the
student is finite, and for the divergences a student equal to its teacher gives zero.
"""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kd_mmdet.models.losses import (CWDLoss, DKDLoss, FGDLoss, HCLLoss, KDLoss,
                                    LDHeadLoss, LDLoss, LogSumLoss, MGDLoss, OFALoss)

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
EXTREME = 1e4
DTYPES = st.sampled_from([torch.float32, torch.float16, torch.bfloat16])
VALUES = st.one_of(st.sampled_from([-EXTREME, EXTREME, 0.0]),
                   st.floats(-EXTREME, EXTREME, width=16))
TEMPERATURES = st.floats(0.1, 20.0)
WEIGHTS = st.floats(0.0, 10.0)


@st.composite
def tensors(draw, shape, dtype):
    """A tensor of ``shape`` and ``dtype`` with values in [-1e4, 1e4] (fp16-exact)."""
    array = draw(hnp.arrays(np.float32, shape, elements=VALUES))
    return torch.from_numpy(array).to(dtype)


def student(x: torch.Tensor) -> torch.Tensor:
    return x.clone().requires_grad_(True)


def check(out, *students, nonnegative=True) -> None:
    """Every term finite and >= 0; the summed loss back-propagates finite gradients.

    An fp16 student's gradient is only checked to exist: fp16 stops at 65504, below
    legitimate gradients of ±1e4 maps at large weights (AMP's dynamic loss scale skips
    such steps); fp32 and bf16 gradients must be finite.
    """
    terms = list(out.values()) if isinstance(out, dict) else [out]
    assert terms
    for term in terms:
        assert term.dtype == torch.float32, term.dtype  # computed in fp32
        assert torch.isfinite(term).all(), term
        assert not nonnegative or (term >= -1e-4).all(), term
    sum(t.sum() for t in terms).backward()
    for s in students:
        assert s.grad is not None
        if s.dtype != torch.float16:
            assert torch.isfinite(s.grad.float()).all(), s.grad


def fp32(x):
    """The same values in fp32; lists and tuples element by element, others unchanged."""
    if isinstance(x, (list, tuple)):
        return type(x)(fp32(v) for v in x)
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        return x.detach().float()
    return x


def as_in_fp32(out, out32) -> None:
    """Every term equals the term computed from fp32 copies of the inputs: a loss that
    does any arithmetic (softmax, sum, square) in fp16/bf16 before upcasting is off by
    ~1e-3 relative or more."""
    terms = out if isinstance(out, dict) else {'loss': out}
    terms32 = out32 if isinstance(out32, dict) else {'loss': out32}
    assert set(terms) == set(terms32)
    for key, term in terms.items():
        assert torch.allclose(term.detach(), terms32[key].detach(), rtol=1e-5, atol=1e-6), \
            (key, term, terms32[key])


def total(out) -> float:
    terms = out.values() if isinstance(out, dict) else [out]
    return float(sum(t.detach().float().sum() for t in terms))


@st.composite
def feature_pair(draw, max_hw=5):
    """Student and teacher maps of one shape (N, C, H, W) and one dtype."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, max_hw)),
             draw(st.integers(1, max_hw)))
    dtype = draw(DTYPES)
    return draw(tensors(shape, dtype)), draw(tensors(shape, dtype))


@st.composite
def logit_pair(draw, min_classes=1):
    shape = (draw(st.integers(1, 4)), draw(st.integers(min_classes, 6)))
    dtype = draw(DTYPES)
    return draw(tensors(shape, dtype)), draw(tensors(shape, dtype))


@PROPERTY
@given(pair=feature_pair(), tau=TEMPERATURES, weight=WEIGHTS)
def test_cwd(pair, tau, weight):
    """CWD: finite and >= 0 on any maps; zero for a student equal to its teacher."""
    s, t = pair
    loss = CWDLoss(tau=tau, loss_weight=weight)
    s_leaf = student(s)
    out = loss(s_leaf, t)
    as_in_fp32(out, loss(fp32(s), fp32(t)))
    check(out, s_leaf)
    assert abs(total(loss(t, t))) < 1e-6


@PROPERTY
@given(pair=feature_pair(), alpha=st.floats(0.0, 1.0), weight=WEIGHTS)
def test_mgd(pair, alpha, weight):
    s, t = pair
    loss = MGDLoss(alpha_mgd=alpha, loss_weight=weight)
    s_leaf = student(s)
    out = loss(s_leaf, t)
    as_in_fp32(out, loss(fp32(s), fp32(t)))
    check(out, s_leaf)
    assert total(loss(t, t)) == 0


@PROPERTY
@given(data=st.data(), levels=st.integers(0, 3), weight=WEIGHTS)
def test_hcl(data, levels, weight):
    """HCL on one map or on 1-3 levels of sizes that do and do not get pooled."""
    pairs = [data.draw(feature_pair(max_hw=9)) for _ in range(max(levels, 1))]
    if levels == 0:
        s, t = student(pairs[0][0]), pairs[0][1]
        leaves = [s]
    else:
        leaves = [student(p[0]) for p in pairs]
        s, t = leaves, [p[1] for p in pairs]
    loss = HCLLoss(loss_weight=weight)
    out = loss(s, t)
    as_in_fp32(out, loss(fp32(s), fp32(t)))
    check(out, *leaves)
    assert total(loss(t, t)) == 0


@PROPERTY
@given(pair=logit_pair(), temperature=TEMPERATURES, weight=WEIGHTS,
       reduction=st.sampled_from(['batchmean', 'sum', 'none']))
def test_kd(pair, temperature, weight, reduction):
    s, t = pair
    loss = KDLoss(temperature=temperature, loss_weight=weight, reduction=reduction)
    s_leaf = student(s)
    out = loss(s_leaf, t)
    as_in_fp32(out, loss(fp32(s), fp32(t)))
    check(out, s_leaf)
    assert abs(total(loss(t, t))) < 1e-6


@PROPERTY
@given(data=st.data(), temperature=TEMPERATURES, alpha=WEIGHTS, beta=WEIGHTS,
       weight=WEIGHTS)
def test_dkd(data, temperature, alpha, beta, weight):
    """DKD with any labels: both decoupled terms finite and >= 0."""
    s, t = data.draw(logit_pair(min_classes=2))
    labels = torch.tensor(data.draw(st.lists(st.integers(0, s.shape[1] - 1),
                                             min_size=s.shape[0], max_size=s.shape[0])))
    loss = DKDLoss(alpha=alpha, beta=beta, temperature=temperature, loss_weight=weight)
    s_leaf = student(s)
    out = loss(s_leaf, t, labels, return_terms=True)
    as_in_fp32(out, loss(fp32(s), fp32(t), labels, return_terms=True))
    check(out, s_leaf)
    assert abs(total(loss(t, t, labels))) < 1e-6


@PROPERTY
@given(data=st.data(), eps=st.floats(0.1, 3.0), temperature=TEMPERATURES, weight=WEIGHTS,
       reduction=st.sampled_from(['batchmean', 'sum', 'none']))
def test_ofa(data, eps, temperature, weight, reduction):
    """OFA: a cross-entropy with non-negative weights, finite at saturated logits."""
    s, t = data.draw(logit_pair(min_classes=2))
    labels = torch.tensor(data.draw(st.lists(st.integers(0, s.shape[1] - 1),
                                             min_size=s.shape[0], max_size=s.shape[0])))
    loss = OFALoss(eps=eps, temperature=temperature, loss_weight=weight,
                   reduction=reduction)
    s_leaf = student(s)
    out = loss(s_leaf, t, labels)
    as_in_fp32(out, loss(fp32(s), fp32(t), labels))
    check(out, s_leaf)


@PROPERTY
@given(pair=feature_pair(), alpha=st.floats(0.5, 8.0), weight=WEIGHTS)
def test_logsum(pair, alpha, weight):
    """LogSum is a log, so it may be negative; finite, and equal inputs give no
    gradient (|d| is clamped at eps)."""
    s, t = pair
    loss = LogSumLoss(alpha=alpha, loss_weight=weight)
    s_leaf = student(s)
    out = loss(s_leaf, t)
    as_in_fp32(out, loss(fp32(s), fp32(t)))
    check(out, s_leaf, nonnegative=False)
    same = student(t)
    check(loss(same, t), same, nonnegative=False)
    assert not same.grad.float().abs().sum()


@PROPERTY
@given(data=st.data(), temperature=TEMPERATURES, weight=WEIGHTS,
       reduction=st.sampled_from(['mean', 'sum', 'none']))
def test_ld(data, temperature, weight, reduction):
    """LD with or without per-edge weights; avg_factor 0 (no positives) stays finite."""
    shape = (data.draw(st.integers(1, 8)), data.draw(st.integers(2, 17)))
    dtype = data.draw(DTYPES)
    s, t = data.draw(tensors(shape, dtype)), data.draw(tensors(shape, dtype))
    edge_weight = data.draw(st.none() | st.just(torch.rand(shape[0])))
    avg_factor = data.draw(st.none() | st.sampled_from([0.0, 4.0])) \
        if reduction == 'mean' else None
    loss = LDLoss(temperature=temperature, loss_weight=weight, reduction=reduction)
    s_leaf = student(s)
    out = loss(s_leaf, t, weight=edge_weight, avg_factor=avg_factor)
    as_in_fp32(out, loss(fp32(s), fp32(t), weight=edge_weight, avg_factor=avg_factor))
    check(out, s_leaf)
    assert abs(total(loss(t, t, weight=edge_weight, avg_factor=avg_factor))) < 1e-6


@st.composite
def gt_boxes(draw, n_images, input_hw):
    """Per image 0-3 xyxy boxes anywhere in [-2, 3] x the input: inside, straddling the
    border, wholly outside, zero-area or inverted."""
    H, W = input_hw
    coords = st.floats(-2.0, 3.0)
    out = []
    for _ in range(n_images):
        k = draw(st.integers(0, 3))
        rows = [[draw(coords) * W, draw(coords) * H, draw(coords) * W, draw(coords) * H]
                for _ in range(k)]
        out.append(torch.tensor(rows, dtype=torch.float32).reshape(k, 4))
    return out


@PROPERTY
@given(data=st.data(), temp=st.floats(0.1, 2.0), normalize=st.booleans(),
       extra_student_channels=st.integers(0, 1))
def test_fgd(data, temp, normalize, extra_student_channels):
    """FGD with empty, out-of-bounds and inverted GT boxes, with and without align."""
    N, C = data.draw(st.integers(1, 2)), data.draw(st.integers(2, 4))
    H, W = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    dtype = data.draw(DTYPES)
    C_s = C + extra_student_channels
    s = data.draw(tensors((N, C_s, H, W), dtype))
    t = data.draw(tensors((N, C, H, W), dtype))
    input_hw = (data.draw(st.integers(8, 128)), data.draw(st.integers(8, 128)))
    boxes = data.draw(gt_boxes(N, input_hw))
    torch.manual_seed(0)
    loss = FGDLoss(student_channels=C_s, teacher_channels=C, temp=temp,
                   normalize_by_hw=normalize)
    s_leaf = student(s)
    out = loss(s_leaf, t, gt_bboxes=boxes, batch_input_shape=input_hw)
    as_in_fp32(out, loss(fp32(s), fp32(t), gt_bboxes=boxes, batch_input_shape=input_hw))
    check(out, s_leaf)
    if not extra_student_channels:  # no align conv: equal maps, identity GcBlocks at init
        assert abs(total(loss(t, t, gt_bboxes=boxes, batch_input_shape=input_hw))) < 1e-6


@PROPERTY
@given(data=st.data(), tau=TEMPERATURES, kd_temperature=TEMPERATURES,
       im_weight=st.sampled_from([0.0, 2.0]))
def test_ld_head(data, tau, kd_temperature, im_weight):
    """LD main + VLR + KD (+ imitation) with any labels and empty / outside GT boxes."""
    N, C, bins = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), 3
    dtype = data.draw(DTYPES)
    sizes, strides = [(4, 4), (2, 2)], [8, 16]
    cls_S, cls_T, reg_S, reg_T, anchors, labels = [], [], [], [], [], []
    for (h, w), stride in zip(sizes, strides):
        cls_S.append(student(data.draw(tensors((N, C, h, w), dtype))))
        cls_T.append(data.draw(tensors((N, C, h, w), dtype)))
        reg_S.append(student(data.draw(tensors((N, 4 * bins, h, w), dtype))))
        reg_T.append(data.draw(tensors((N, 4 * bins, h, w), dtype)))
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
        centre = torch.stack([xs, ys], -1).reshape(-1, 2).float() * stride + stride / 2
        box = torch.cat([centre - 2 * stride, centre + 2 * stride], 1)
        anchors.append(box[None].expand(N, -1, -1))
        labels.append(torch.tensor(data.draw(st.lists(st.integers(0, C), min_size=N * h * w,
                                                      max_size=N * h * w))).reshape(N, -1))
    samples = [SimpleNamespace(gt_instances=SimpleNamespace(bboxes=b))
               for b in data.draw(gt_boxes(N, (32, 32)))]
    feats_S = [student(data.draw(tensors((N, 2, h, w), dtype))) for h, w in sizes]
    feats_T = [data.draw(tensors((N, 2, h, w), dtype)) for h, w in sizes]
    loss = LDHeadLoss(tau=tau, kd_temperature=kd_temperature, im_weight=im_weight)
    out = loss(cls_S, reg_S, cls_T, reg_T, anchors, labels, samples, feats_S, feats_T)
    as_in_fp32(out, loss(*fp32([cls_S, reg_S, cls_T, reg_T]), anchors, labels, samples,
                         *fp32([feats_S, feats_T])))
    assert set(out) == ({'main', 'vlr', 'kd', 'im'} if im_weight else {'main', 'vlr', 'kd'})
    check(out, *reg_S)


def _losses_and_inputs():
    """One loss of each kind with fp32 inputs, for the autocast test."""
    g = torch.Generator().manual_seed(0)
    maps = [torch.randn(2, 4, 6, 6, generator=g) * 100 for _ in range(2)]
    logits = [torch.randn(3, 5, generator=g) * 100 for _ in range(2)]
    boxes = [torch.tensor([[4., 4., 40., 40.]]), torch.zeros(0, 4)]
    return [
        ('cwd', CWDLoss(), maps, {}),
        ('mgd', MGDLoss(), maps, {}),
        ('hcl', HCLLoss(), maps, {}),
        ('kd', KDLoss(), logits, {}),
        ('dkd', DKDLoss(), logits, dict(gt_labels=torch.tensor([0, 4, 2]))),
        ('ld', LDLoss(), logits, {}),
        ('ofa', OFALoss(), logits, dict(gt_labels=torch.tensor([0, 4, 2]))),
        ('logsum', LogSumLoss(), logits, {}),
        ('fgd', FGDLoss(student_channels=4, teacher_channels=4), maps,
         dict(gt_bboxes=boxes, batch_input_shape=(48, 48))),
    ]


@pytest.mark.parametrize('name, loss, inputs, kwargs', _losses_and_inputs(),
                         ids=[case[0] for case in _losses_and_inputs()])
def test_fp32_value_under_cpu_autocast(name, loss, inputs, kwargs):
    """Mixed precision as AmpOptimWrapper runs it on CPU (bf16 autocast): finite, and
    the value computed without autocast (the losses compute in fp32)."""
    s, t = student(inputs[0]), inputs[1]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = loss(s, t, **kwargs)
    as_in_fp32(out, loss(fp32(s), t, **kwargs))
    check(out, s)
