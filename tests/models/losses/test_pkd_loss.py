import math

import pytest
import torch

from kd_mmdet.models.losses import PKDLoss, pkd_loss, pkd_normalize


def pkd_reference(s, t, per_image=False, eps=1e-6):
    """Loop-by-loop transcription of Cao et al. (NeurIPS 2022), sec. 3.2, with mmrazor's
    statistics: per channel over the batch's N·H·W elements (or one image's H·W), the
    unbiased standard deviation plus eps; then the squared error over 2·N·C·H·W."""
    N, C, H, W = s.shape

    def standardise(values):
        m = len(values)
        mean = sum(values) / m
        std = math.sqrt(sum((v - mean)**2 for v in values) / max(m - 1, 1))
        return [(v - mean) / (std + eps) for v in values]

    total = 0.0
    groups = [[(n, c)] for n in range(N) for c in range(C)] if per_image else \
        [[(n, c) for n in range(N)] for c in range(C)]
    for group in groups:
        xs = [float(s[n, c, h, w]) for n, c in group for h in range(H) for w in range(W)]
        xt = [float(t[n, c, h, w]) for n, c in group for h in range(H) for w in range(W)]
        total += sum((a - b)**2 for a, b in zip(standardise(xs), standardise(xt)))
    return total / (2 * N * C * H * W)


def maps(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g), 3 * torch.randn(*shape, generator=g) + 1


@pytest.mark.parametrize('shape', [(2, 3, 4, 5), (1, 4, 3, 3), (3, 2, 1, 2)])
@pytest.mark.parametrize('per_image', [False, True])
def test_matches_slow_transcription(shape, per_image):
    """The vectorised loss equals the per-channel loop, pooled over the batch or not."""
    s, t = maps(*shape)
    assert pkd_loss(s, t, per_image).item() == pytest.approx(
        pkd_reference(s, t, per_image), rel=1e-5)


def test_is_one_minus_pearson_correlation():
    """Per channel the loss is (M - 1) / M · (1 - r), r the Pearson correlation."""
    g = torch.Generator().manual_seed(3)
    t = torch.randn(2, 1, 4, 4, generator=g)
    s = 0.6 * t + 0.8 * torch.randn(2, 1, 4, 4, generator=g)
    r = torch.corrcoef(torch.stack([s.flatten(), t.flatten()]))[0, 1].item()
    m = s.numel()
    assert pkd_loss(s, t).item() == pytest.approx((m - 1) / m * (1 - r), rel=1e-4)
    assert pkd_loss(-t, t).item() == pytest.approx(2 * (m - 1) / m, rel=1e-4)


def _both(ours, ref, s, t):
    """Loss and student gradient of our PKDLoss and mmrazor's on the same tensors."""
    out = []
    for loss in (ours, ref):
        s_ = [x.clone().requires_grad_() for x in s] if isinstance(s, list) else \
            s.clone().requires_grad_()
        value = loss(s_, t)
        value.backward()
        grads = [x.grad for x in s_] if isinstance(s, list) else [s_.grad]
        out.append((value.item(), grads))
    return out


@pytest.mark.parametrize('shape', [(1, 8, 6, 6), (4, 8, 5, 7), (2, 16, 1, 1)])
@pytest.mark.parametrize('weight', [1.0, 6.0])
def test_matches_mmrazor_values_and_gradients(shape, weight):
    """Equal to mmrazor 1.0's PKDLoss, value and student gradient, batch 1 to 4."""
    from mmrazor.models.losses import PKDLoss as RazorPKDLoss
    s, t = maps(*shape, seed=1)
    (v, g), (v_ref, g_ref) = _both(PKDLoss(loss_weight=weight),
                                   RazorPKDLoss(loss_weight=weight), s, t)
    assert v == pytest.approx(v_ref, rel=1e-5)
    # Two elements per channel (1x1 maps, batch 2) standardise to ±0.71 whatever the
    # values: gradients ~1e-6, equal up to rounding.
    assert torch.allclose(g[0], g_ref[0], rtol=1e-4, atol=1e-6)


def test_matches_mmrazor_on_a_tuple_of_levels():
    """A tuple of FPN levels (P3..P7 of a 128 px batch of 2) sums the levels' losses,
    as mmrazor does; the gradients of every level agree."""
    from mmrazor.models.losses import PKDLoss as RazorPKDLoss
    sizes = [16, 8, 4, 2, 1]
    s = [maps(2, 4, h, h, seed=h)[0] for h in sizes]
    t = tuple(maps(2, 4, h, h, seed=h)[1] for h in sizes)
    (v, g), (v_ref, g_ref) = _both(PKDLoss(loss_weight=6.0), RazorPKDLoss(loss_weight=6.0),
                                   s, t)
    assert v == pytest.approx(v_ref, rel=1e-5)
    for a, b in zip(g, g_ref):  # P7 (1x1, batch 2): rounding-level gradients, see above
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    assert v == pytest.approx(6.0 * sum(pkd_loss(a, b).item() for a, b in zip(s, t)), rel=1e-6)


@pytest.mark.parametrize('value', [0.0, 1.0, -4.0])
def test_constant_map_is_finite_and_matches_mmrazor(value):
    """A constant student map normalises to zeros: finite loss and gradient, both equal
    to mmrazor's; a constant teacher map likewise."""
    from mmrazor.models.losses import PKDLoss as RazorPKDLoss
    _, t = maps(2, 3, 4, 4, seed=2)
    s = torch.full((2, 3, 4, 4), value)
    (v, g), (v_ref, g_ref) = _both(PKDLoss(), RazorPKDLoss(), s, t)
    assert math.isfinite(v) and torch.isfinite(g[0]).all()
    assert v == pytest.approx(v_ref, rel=1e-5)
    assert torch.allclose(g[0], g_ref[0], rtol=1e-4, atol=1e-2)  # |grad| ~ 3e4 (1 / eps)
    assert torch.equal(pkd_normalize(s), torch.zeros_like(s))
    assert PKDLoss()(t, torch.full_like(t, value)).item() == pytest.approx(
        pkd_loss(t, torch.zeros_like(t)).item())


def test_single_element_channels_are_finite_where_mmrazor_is_nan():
    """A 1x1 map at batch 1 (P7 of a 128 px image): torch.std of one element is NaN in
    mmrazor; here the channel normalises to 0 and the loss is 0."""
    from mmrazor.models.losses import PKDLoss as RazorPKDLoss
    s, t = maps(1, 8, 1, 1, seed=4)
    s.requires_grad_()
    assert math.isnan(RazorPKDLoss()(s, t).item())
    loss = PKDLoss()(s, t)
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(s.grad).all()


def test_zero_when_student_equals_teacher():
    """Identical maps are perfectly correlated."""
    _, t = maps(2, 4, 5, 5)
    assert PKDLoss()(t.clone(), t).item() == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize('per_image', [False, True])
def test_invariant_to_teacher_scale_and_per_channel_shift(per_image):
    """Scaling the teacher by a positive factor and shifting each channel leaves the loss
    unchanged: the teacher's magnitude is not imitated."""
    s, t = maps(2, 3, 6, 6, seed=5)
    shift = torch.tensor([5.0, -2.0, 100.0]).view(1, 3, 1, 1)
    base = pkd_loss(s, t, per_image).item()
    for scale in (0.01, 7.0, 1000.0):
        assert pkd_loss(s, scale * t + shift, per_image).item() == pytest.approx(base,
                                                                                 rel=1e-4)


def test_per_image_is_the_mean_of_single_image_losses():
    """per_image: each image standardised alone, so the batch loss is the mean of the
    images' losses, whatever the other images hold."""
    s, t = maps(3, 4, 5, 5, seed=6)
    single = [pkd_loss(s[i:i + 1], t[i:i + 1]).item() for i in range(3)]
    assert pkd_loss(s, t, per_image=True).item() == pytest.approx(sum(single) / 3, rel=1e-5)
    assert pkd_loss(s, t).item() != pytest.approx(sum(single) / 3, rel=1e-3)


def test_gradient_reaches_student_not_teacher():
    """Only the student gets a (finite, non-zero) gradient."""
    s, t = maps(2, 4, 5, 5, seed=7)
    s.requires_grad_()
    t.requires_grad_()
    PKDLoss()(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t = maps(1, 2, 3, 3, seed=8)
    assert PKDLoss(loss_weight=6.0)(s, t).item() == pytest.approx(
        6.0 * PKDLoss(loss_weight=1.0)(s, t).item(), rel=1e-6)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_input_is_computed_in_fp32(dtype):
    """fp16/bf16 maps of magnitude ~300 give the fp32 loss of the same rounded values
    (mmrazor standardises in the input's precision and is off in the third digit)."""
    g = torch.Generator().manual_seed(9)
    s = (300 * torch.randn(2, 3, 8, 8, generator=g)).to(dtype)
    t = (300 * torch.randn(2, 3, 8, 8, generator=g)).to(dtype)
    got = pkd_loss(s, t)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(pkd_reference(s.float(), t.float()), rel=1e-5)


def test_mismatched_channels_name_shapes_and_connector():
    """A channel mismatch names the component, both shapes and the fix."""
    with pytest.raises(ValueError, match=r'PKDLoss: student \(2, 64, 8, 8\) vs teacher '
                                         r'\(2, 128, 8, 8\).*connector'):
        PKDLoss()(torch.randn(2, 64, 8, 8), torch.randn(2, 128, 8, 8))


def test_mismatched_spatial_size_is_an_error_not_an_interpolation():
    """Another spatial size (mmrazor would interpolate, or assert when only the widths
    differ) fails naming both shapes and the level."""
    s = [torch.randn(1, 4, 8, 8), torch.randn(1, 4, 4, 6)]
    t = [torch.randn(1, 4, 8, 8), torch.randn(1, 4, 4, 4)]
    with pytest.raises(ValueError, match=r'PKDLoss \(level 1\): student \(1, 4, 4, 6\) vs '
                                         r'teacher \(1, 4, 4, 4\)'):
        PKDLoss()(s, t)
    with pytest.raises(ValueError, match=r'PKDLoss: 2 student levels vs 1 teacher levels'):
        PKDLoss()(s, t[:1])
    with pytest.raises(ValueError, match=r'PKDLoss: expected 4-d student input'):
        PKDLoss()(torch.randn(4, 8), torch.randn(4, 8))


@pytest.mark.parametrize('weight', [-1.0, float('nan')])
def test_bad_loss_weight_rejected(weight):
    """A negative or NaN weight fails at build time, naming the argument."""
    with pytest.raises(ValueError, match='PKDLoss: loss_weight'):
        PKDLoss(loss_weight=weight)


def test_scoped_name_is_ours_and_mmrazors_name_stays_mmrazors():
    """`kd_mmdet.PKDLoss` builds ours from mmrazor's registry; mmrazor's own `PKDLoss`
    is untouched by our registration (the two would collide in one registry)."""
    from mmrazor.models.losses import PKDLoss as RazorPKDLoss
    from mmrazor.registry import MODELS
    ours = MODELS.build(dict(type='kd_mmdet.PKDLoss', loss_weight=6.0, per_image=True))
    assert isinstance(ours, PKDLoss) and ours.loss_weight == 6.0 and ours.per_image
    assert MODELS.get('PKDLoss') is RazorPKDLoss
