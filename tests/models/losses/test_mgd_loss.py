import pytest
import torch

from kd_mmdet.models.losses import MGDLoss, mgd_loss


def mgd_reference(s, t, alpha):
    """Loop-by-loop transcription of Yang et al. (ECCV 2022), eq. (3): alpha/N · Σ (G - T)²."""
    N, C, H, W = s.shape
    total = 0.0
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    total += (float(s[n, c, i, j]) - float(t[n, c, i, j]))**2
    return alpha * total / N


@pytest.mark.parametrize('alpha', [2e-5, 5e-7, 1.0])
def test_matches_slow_transcription(alpha):
    """The vectorised loss equals the element-wise sum at the official alphas."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 3, 4, 5, generator=g), torch.randn(2, 3, 4, 5, generator=g)
    assert mgd_loss(s, t, alpha).item() == pytest.approx(mgd_reference(s, t, alpha),
                                                         rel=1e-5)


def test_matches_mmrazor_mgd_loss():
    """Numerically equal to mmrazor 1.0's MGDLoss (sum / N, times alpha)."""
    from mmrazor.models.losses import MGDLoss as RazorMGDLoss
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(3, 8, 6, 6, generator=g), torch.randn(3, 8, 6, 6, generator=g)
    for alpha in (2e-5, 5e-7, 0.3):
        ref = RazorMGDLoss(alpha_mgd=alpha)(s, t).item()
        assert MGDLoss(alpha_mgd=alpha)(s, t).item() == pytest.approx(ref, rel=1e-6)


def test_zero_when_student_equals_teacher():
    """A perfect generator gives zero loss."""
    t = torch.randn(2, 4, 5, 5)
    assert MGDLoss()(t.clone(), t).item() == 0.0


def test_gradient_reaches_student_not_teacher():
    """Only the generated map gets a (finite, non-zero) gradient."""
    s = torch.randn(2, 4, 5, 5, requires_grad=True)
    t = torch.randn(2, 4, 5, 5, requires_grad=True)
    MGDLoss()(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t = torch.randn(1, 2, 3, 3), torch.randn(1, 2, 3, 3)
    assert MGDLoss(loss_weight=3.0)(s, t).item() == pytest.approx(
        3.0 * MGDLoss(loss_weight=1.0)(s, t).item(), rel=1e-6)


def test_mismatched_channels_name_shapes_and_connector():
    """A channel mismatch names both shapes and suggests a connector."""
    with pytest.raises(ValueError, match=r'MGDLoss: student \(2, 64, 8, 8\) vs teacher '
                                         r'\(2, 128, 8, 8\).*connector'):
        MGDLoss()(torch.randn(2, 64, 8, 8), torch.randn(2, 128, 8, 8))


@pytest.mark.parametrize('kwargs, match', [
    (dict(alpha_mgd=-2e-5), 'MGDLoss: alpha_mgd .* got -2e-05'),
    (dict(alpha_mgd=float('inf')), 'MGDLoss: alpha_mgd'),
    (dict(loss_weight=-1), 'MGDLoss: loss_weight .* got -1'),
])
def test_bad_arguments_rejected(kwargs, match):
    """Negative or non-finite weights fail at build time, naming argument and value."""
    with pytest.raises(ValueError, match=match):
        MGDLoss(**kwargs)


def test_built_through_mmrazor_registry_by_scoped_name():
    """Configs name it `kd_mmdet.MGDLoss`; mmrazor's own `MGDLoss` stays distinct."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.MGDLoss', alpha_mgd=5e-7, loss_weight=2.0))
    assert isinstance(loss, MGDLoss) and loss.alpha_mgd == 5e-7 and loss.loss_weight == 2.0
    assert not isinstance(MODELS.build(dict(type='MGDLoss')), MGDLoss)
