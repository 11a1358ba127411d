import math

import pytest
import torch

from kd_mmdet.models.losses import (DistributionKLLoss, KDQualityFocalLoss, LDLoss,
                                    kd_quality_focal_loss)


def qfl_reference(s, t, beta):
    """Element by element: BCE(sigmoid(s), sigmoid(t)) · |sigmoid(s) - sigmoid(t)|^beta."""
    out = torch.empty_like(s, dtype=torch.float64)
    for i in range(s.shape[0]):
        for c in range(s.shape[1]):
            p = 1 / (1 + math.exp(-float(s[i, c])))
            q = 1 / (1 + math.exp(-float(t[i, c])))
            out[i, c] = -(q * math.log(p) + (1 - q) * math.log(1 - p)) * abs(p - q)**beta
    return out


def logits(m=6, c=5, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(m, c, generator=g), scale * torch.randn(m, c, generator=g)


@pytest.mark.parametrize('beta', [0.0, 1.0, 2.0])
def test_qfl_matches_slow_transcription(beta):
    """The vectorised soft quality focal loss equals the element-wise formula."""
    s, t = logits()
    assert torch.allclose(kd_quality_focal_loss(s, t, beta).double(), qfl_reference(s, t, beta),
                          rtol=1e-5, atol=1e-7)


def test_qfl_module_weights_and_normalises_like_mmdet():
    """Per-row weights broadcast over classes; 'mean' with avg_factor is sum / avg_factor;
    loss_weight is linear."""
    s, t = logits(seed=1)
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.5, 1.0])
    ref = (qfl_reference(s, t, 1.0) * w[:, None].double()).sum().item()
    assert KDQualityFocalLoss()(s, t, weight=w, avg_factor=4.0).item() == pytest.approx(
        ref / 4.0, rel=1e-5)
    assert KDQualityFocalLoss(loss_weight=3.0)(s, t, weight=w, avg_factor=4.0).item() == \
        pytest.approx(3 * ref / 4.0, rel=1e-5)
    assert KDQualityFocalLoss()(s, t).item() == pytest.approx(
        qfl_reference(s, t, 1.0).mean().item(), rel=1e-5)


def test_qfl_is_zero_when_student_equals_teacher():
    """Equal scores: the focal factor is 0 (BCE alone would be the teacher's entropy)."""
    _, t = logits(seed=2)
    assert KDQualityFocalLoss()(t.clone(), t).item() == pytest.approx(0.0, abs=1e-7)
    assert KDQualityFocalLoss(beta=0.0)(t.clone(), t).item() > 0.1


def test_distribution_kl_sums_over_bins():
    """KL over 17 bins, summed: (reg_max + 1) times LDLoss (which averages) at the same
    temperature, and the row-wise KL of the softmaxes."""
    s, t = logits(8, 17, seed=3)
    w = torch.rand(8, generator=torch.Generator().manual_seed(4))
    ours = DistributionKLLoss(temperature=1.0)(s, t, weight=w, avg_factor=2.0)
    assert ours.item() == pytest.approx(
        17 * LDLoss(temperature=1.0, loss_weight=1.0)(s, t, weight=w, avg_factor=2.0).item(),
        rel=1e-5)
    p_t, p_s = t.softmax(1), s.softmax(1)
    kl = (p_t * (p_t.log() - p_s.log())).sum(1)
    assert ours.item() == pytest.approx(float((kl * w).sum() / 2.0), rel=1e-5)


@pytest.mark.parametrize('loss', [KDQualityFocalLoss(), DistributionKLLoss()])
def test_gradient_reaches_student_not_teacher(loss):
    """Only the student's logits get a finite, non-zero gradient."""
    s, t = logits(seed=5)
    s.requires_grad_()
    t.requires_grad_()
    loss(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_bad_shapes_and_arguments_name_the_component():
    """Mismatched logits, a wrong weight shape, avg_factor with 'sum' and bad
    hyper-parameters fail with the loss's name."""
    s, t = logits()
    with pytest.raises(ValueError, match=r'KDQualityFocalLoss: student \(6, 5\) vs teacher '
                                         r'\(6, 4\)'):
        KDQualityFocalLoss()(s, t[:, :4])
    with pytest.raises(ValueError, match=r'KDQualityFocalLoss: weight must have shape \(6,\) '
                                         r'or \(6, 5\)'):
        KDQualityFocalLoss()(s, t, weight=torch.ones(5))
    with pytest.raises(ValueError, match=r'DistributionKLLoss: weight must have shape \(6,\)'):
        DistributionKLLoss()(s, t, weight=torch.ones(6, 5))
    with pytest.raises(ValueError, match=r'avg_factor cannot be used with reduction="sum"'):
        DistributionKLLoss(reduction='sum')(s, t, avg_factor=2.0)
    with pytest.raises(ValueError, match='KDQualityFocalLoss: beta'):
        KDQualityFocalLoss(beta=-1.0)
    with pytest.raises(ValueError, match='DistributionKLLoss: temperature'):
        DistributionKLLoss(temperature=0.0)


def test_built_through_mmrazor_registry_by_scoped_name():
    """Configs name them `kd_mmdet.KDQualityFocalLoss` / `kd_mmdet.DistributionKLLoss`."""
    from mmrazor.registry import MODELS
    qfl = MODELS.build(dict(type='kd_mmdet.KDQualityFocalLoss', beta=1.0, loss_weight=2.0))
    kl = MODELS.build(dict(type='kd_mmdet.DistributionKLLoss', loss_weight=3.0))
    assert isinstance(qfl, KDQualityFocalLoss) and qfl.loss_weight == 2.0
    assert isinstance(kl, DistributionKLLoss) and kl.loss_weight == 3.0
