import math

import pytest
import torch

from kd_mmdet.models.losses import LogSumLoss, logsum_loss


def logsum_reference(s, t, alpha):
    """Loop transcription: log of the sum over batch and dimensions of |s - t|^alpha."""
    total = 0.0
    for row_s, row_t in zip(s.tolist(), t.tolist()):
        for a, b in zip(row_s, row_t):
            total += abs(a - b)**alpha
    return math.log(total)


@pytest.mark.parametrize('alpha', [1.0, 2.0, 4.0, 8.0])
def test_matches_slow_transcription(alpha):
    """logsum_loss equals the element loop for several alpha."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    assert logsum_loss(s, t, alpha).item() == pytest.approx(logsum_reference(s, t, alpha),
                                                            rel=1e-5)


def test_matches_authors_expression():
    """Equals 2 * log((|f_s - f_t|^4).sum()) (the authors' code) at weight 2, alpha 4."""
    s, t = torch.randn(8, 16), torch.randn(8, 16)
    ref = 2.0 * torch.log((s - t).abs().pow(4.0).sum())
    assert LogSumLoss(alpha=4.0, loss_weight=2.0)(s, t).item() == pytest.approx(ref.item(),
                                                                                rel=1e-5)


def test_large_alpha_approaches_log_max():
    """For large alpha, D / alpha tends to log max |d| (the smoothing alpha controls)."""
    s, t = torch.randn(4, 32), torch.randn(4, 32)
    log_max = (s - t).abs().max().log().item()
    gaps = [abs(logsum_loss(s, t, a).item() / a - log_max) for a in (2.0, 16.0, 128.0)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < math.log(128) / 128 + 1e-6


def test_gradient_is_scale_invariant():
    """Scaling the difference by k adds alpha log k to D and leaves the direction of the
    gradient unchanged (its size scales by 1 / k)."""
    t = torch.zeros(3, 5)
    d = torch.randn(3, 5)
    grads, values = [], []
    for k in (1.0, 10.0):
        s = (k * d).requires_grad_()
        v = logsum_loss(s, t, 4.0)
        v.backward()
        grads.append(s.grad * k)
        values.append(v.item())
    assert values[1] - values[0] == pytest.approx(4.0 * math.log(10.0), rel=1e-5)
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-7)


def test_identical_inputs_finite_with_zero_gradient():
    """Student equal to teacher: finite value, zero gradient (|d| clamped at eps)."""
    t = torch.randn(2, 3)
    s = t.clone().requires_grad_()
    loss = LogSumLoss()(s, t)
    loss.backward()
    assert torch.isfinite(loss) and torch.all(s.grad == 0)


@pytest.mark.parametrize('gap', [1e30, 1e20, 1e-8, 1e-30])
@pytest.mark.parametrize('alpha', [1.0, 4.0])
def test_huge_and_tiny_differences_give_the_closed_form(gap, alpha):
    """Four equal differences d: D = log(4 d^α) = log 4 + α log max(d, eps), computed in
    float64 from the fp32 d. d^4 = 1e120 overflows fp32 and 1e-30 is clamped at
    eps = 1e-12 (computed in log space, so finite and exact)."""
    s = torch.full((2, 2), gap)
    d = max(float(s[0, 0]), 1e-12)  # the fp32 value of gap, clamped
    got = logsum_loss(s, torch.zeros(2, 2), alpha)
    assert got.item() == pytest.approx(math.log(4) + alpha * math.log(d), rel=1e-6)


def test_gradient_reaches_student_not_teacher_and_weight_is_linear():
    """Only the student gets a gradient; loss_weight scales linearly."""
    s, t = torch.randn(3, 4, requires_grad=True), torch.randn(3, 4, requires_grad=True)
    LogSumLoss()(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0 and t.grad is None
    assert LogSumLoss(loss_weight=2.0)(s, t).item() == pytest.approx(
        2 * LogSumLoss()(s, t).item(), rel=1e-6)


@pytest.mark.parametrize('kwargs', [dict(alpha=0), dict(eps=0), dict(loss_weight=-1)])
def test_bad_arguments_rejected(kwargs):
    """Non-positive alpha or eps, negative weight fail at build time."""
    with pytest.raises(ValueError, match='LogSumLoss'):
        LogSumLoss(**kwargs)


def test_mismatched_shapes_name_both():
    """A width mismatch names the component and both shapes."""
    with pytest.raises(ValueError, match=r'LogSumLoss: student \(2, 8\) vs teacher \(2, 16\)'):
        LogSumLoss()(torch.randn(2, 8), torch.randn(2, 16))


def test_built_through_mmrazor_registry():
    """Configs name it `kd_mmdet.LogSumLoss`."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.LogSumLoss', alpha=4.0, loss_weight=2.0))
    assert isinstance(loss, LogSumLoss) and loss.loss_weight == 2.0
