import math

import pytest
import torch

from kd_mmdet.models.losses import CWDLoss, cwd_loss


def cwd_reference(s, t, tau):
    """Loop-by-loop transcription of Shu et al. (ICCV 2021), eq. (3)-(4)."""
    N, C, H, W = s.shape
    total = 0.0
    for n in range(N):
        for c in range(C):
            xs = [float(v) / tau for v in s[n, c].flatten()]
            xt = [float(v) / tau for v in t[n, c].flatten()]
            zs = sum(math.exp(v) for v in xs)
            zt = sum(math.exp(v) for v in xt)
            for i in range(H * W):
                pt = math.exp(xt[i]) / zt
                ps = math.exp(xs[i]) / zs
                total += pt * math.log(pt / ps)
    return total * tau**2 / (N * C)


@pytest.mark.parametrize('tau', [0.5, 1.0, 4.0])
def test_matches_slow_transcription(tau):
    """The vectorised loss equals the per-channel, per-position sum."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 3, 4, 5, generator=g), torch.randn(2, 3, 4, 5, generator=g)
    assert cwd_loss(s, t, tau).item() == pytest.approx(cwd_reference(s, t, tau), rel=1e-5)


def test_matches_mmrazor_channel_wise_divergence():
    """Numerically equal to mmrazor 1.0's ChannelWiseDivergence (true KL, same scale)."""
    from mmrazor.models.losses import ChannelWiseDivergence
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(2, 8, 6, 6, generator=g), torch.randn(2, 8, 6, 6, generator=g)
    for tau, w in [(1.0, 5.0), (2.0, 10.0)]:
        ref = ChannelWiseDivergence(tau=tau, loss_weight=w)(s, t)
        assert CWDLoss(tau=tau, loss_weight=w)(s, t).item() == pytest.approx(ref.item(),
                                                                             rel=1e-5)


def test_zero_when_student_equals_teacher():
    """KL of a distribution with itself is zero."""
    t = torch.randn(2, 4, 5, 5)
    assert CWDLoss()(t.clone(), t).item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_reaches_student_not_teacher():
    """Only the student gets a (finite, non-zero) gradient."""
    s = torch.randn(2, 4, 5, 5, requires_grad=True)
    t = torch.randn(2, 4, 5, 5, requires_grad=True)
    CWDLoss()(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t = torch.randn(1, 2, 3, 3), torch.randn(1, 2, 3, 3)
    assert CWDLoss(loss_weight=3.0)(s, t).item() == pytest.approx(
        3.0 * CWDLoss(loss_weight=1.0)(s, t).item(), rel=1e-6)


def test_mismatched_channels_name_shapes_and_connector():
    """A channel mismatch says which component, both shapes, and what to add."""
    with pytest.raises(ValueError, match=r'CWDLoss: student \(2, 64, 8, 8\) vs teacher '
                                         r'\(2, 128, 8, 8\).*connector'):
        CWDLoss()(torch.randn(2, 64, 8, 8), torch.randn(2, 128, 8, 8))


@pytest.mark.parametrize('kwargs', [dict(tau=0), dict(tau=-1.0), dict(loss_weight=-1),
                                    dict(tau=float('nan'))])
def test_bad_arguments_rejected(kwargs):
    """Non-positive temperature or negative weight fail at build time."""
    with pytest.raises(ValueError, match='CWDLoss'):
        CWDLoss(**kwargs)


def test_built_through_mmrazor_registry_by_scoped_name():
    """Configs name it `kd_mmdet.CWDLoss` from mmrazor's registry."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.CWDLoss', tau=2.0, loss_weight=4.0))
    assert isinstance(loss, CWDLoss) and loss.tau == 2.0 and loss.loss_weight == 4.0


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_half_precision_input_is_computed_in_fp32(dtype, tau):
    """fp16/bf16 maps give the fp32 loss of the same (rounded) values and the slow
    transcription's; a softmax or sum left in half precision is off by ~1e-2."""
    g = torch.Generator().manual_seed(4)
    s = (torch.randn(2, 3, 4, 4, generator=g) * 50).to(dtype)
    t = (torch.randn(2, 3, 4, 4, generator=g) * 50).to(dtype)
    got = cwd_loss(s, t, tau)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(cwd_loss(s.float(), t.float(), tau).item(), rel=1e-6)
    assert got.item() == pytest.approx(cwd_reference(s.float(), t.float(), tau), rel=1e-4)


def test_tuple_of_levels_names_what_it_got():
    """A whole FPN tuple (data_idx forgotten) fails saying so, not with AttributeError."""
    levels = tuple(torch.zeros(1, 2, 4, 4) for _ in range(5))
    with pytest.raises(ValueError, match=r'CWDLoss: expected a student and a teacher tensor, '
                                         r'got tuple of 5 tensors and tuple of 5 tensors '
                                         r'.* needs data_idx'):
        CWDLoss()(levels, levels)
