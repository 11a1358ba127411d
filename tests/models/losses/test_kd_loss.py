import math

import pytest
import torch

from kd_mmdet.models.losses import KDLoss, kd_loss


def kd_reference(s, t, T):
    """Loop-by-loop transcription of Hinton et al. (2015): T² · KL(p_T ‖ p_S) per sample."""
    per_sample = []
    for zs, zt in zip(s.tolist(), t.tolist()):
        es = [math.exp(v / T) for v in zs]
        et = [math.exp(v / T) for v in zt]
        kl = 0.0
        for c in range(len(zs)):
            pt, ps = et[c] / sum(et), es[c] / sum(es)
            kl += pt * math.log(pt / ps)
        per_sample.append(kl * T**2)
    return per_sample


@pytest.mark.parametrize('T', [0.5, 1.0, 4.0])
def test_matches_slow_transcription(T):
    """Per-sample, summed and batch-mean losses equal the per-class loop."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(3, 5, generator=g) * 2, torch.randn(3, 5, generator=g) * 2
    ref = kd_reference(s, t, T)
    assert kd_loss(s, t, T, 'none').tolist() == pytest.approx(ref, rel=1e-5)
    assert kd_loss(s, t, T, 'sum').item() == pytest.approx(sum(ref), rel=1e-5)
    assert kd_loss(s, t, T).item() == pytest.approx(sum(ref) / 3, rel=1e-5)


@pytest.mark.parametrize('reduction', ['batchmean', 'sum'])
def test_matches_mmrazor_kl_divergence(reduction):
    """Equal to mmrazor 1.0's KLDivergence for the reductions both define alike."""
    from mmrazor.models.losses import KLDivergence
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(4, 10, generator=g), torch.randn(4, 10, generator=g)
    ref = KLDivergence(tau=4.0, reduction=reduction, loss_weight=0.9)(s, t)
    ours = KDLoss(temperature=4.0, loss_weight=0.9, reduction=reduction)(s, t)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)


def test_zero_when_student_equals_teacher():
    """KL of a distribution with itself is zero."""
    t = torch.randn(4, 7)
    assert KDLoss(temperature=2.0)(t.clone(), t).item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_reaches_student_not_teacher():
    """Only the student gets a (finite, non-zero) gradient."""
    s = torch.randn(4, 6, requires_grad=True)
    t = torch.randn(4, 6, requires_grad=True)
    KDLoss(temperature=4.0)(s, t).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t = torch.randn(3, 4), torch.randn(3, 4)
    assert KDLoss(loss_weight=2.5)(s, t).item() == pytest.approx(
        2.5 * KDLoss()(s, t).item(), rel=1e-6)


def test_reduction_none_keeps_one_value_per_sample():
    """reduction='none' gives shape (N,), summing to reduction='sum'."""
    s, t = torch.randn(5, 3), torch.randn(5, 3)
    per_sample = KDLoss(reduction='none')(s, t)
    assert per_sample.shape == (5, )
    assert per_sample.sum().item() == pytest.approx(KDLoss(reduction='sum')(s, t).item())


@pytest.mark.parametrize('kwargs', [dict(temperature=0), dict(temperature=-2.0),
                                    dict(temperature=float('inf')), dict(loss_weight=-1),
                                    dict(reduction='mean'), dict(reduction='avg')])
def test_bad_arguments_rejected(kwargs):
    """Non-positive temperature, negative weight or unknown reduction fail at build time."""
    with pytest.raises(ValueError, match='KDLoss'):
        KDLoss(**kwargs)


def test_mismatched_shapes_name_both():
    """A class-count mismatch names the component and both shapes."""
    with pytest.raises(ValueError, match=r'KDLoss: student \(2, 10\) vs teacher \(2, 100\)'):
        KDLoss()(torch.randn(2, 10), torch.randn(2, 100))
    with pytest.raises(ValueError, match=r'KDLoss: expected 2-d student input'):
        KDLoss()(torch.randn(2, 10, 3), torch.randn(2, 10, 3))


def test_built_through_mmrazor_registry_by_scoped_name():
    """Configs name it `kd_mmdet.KDLoss` from mmrazor's registry."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.KDLoss', temperature=4.0, loss_weight=0.9))
    assert isinstance(loss, KDLoss) and loss.temperature == 4.0 and loss.loss_weight == 0.9


def test_extreme_logits_give_finite_loss_and_gradient():
    """Logits of ±1e4 (saturated softmax) give a finite loss and gradient."""
    s = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    t = torch.tensor([[-1e4, 1e4, 0.0], [1e4, -1e4, 0.0]])
    loss = KDLoss()(s, t)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0 and torch.isfinite(s.grad).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_input_gives_finite_loss(dtype):
    """fp16/bf16 logits are computed in fp32 and agree with the fp32 loss."""
    s, t = (torch.randn(4, 8) * 30).to(dtype), (torch.randn(4, 8) * 30).to(dtype)
    loss = kd_loss(s, t, 4.0)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(kd_loss(s.float(), t.float(), 4.0).item(), rel=1e-5)


def test_batch_dot_reduces_row_sums_of_the_product():
    """'none' = row sums of a * b; 'sum' their total; 'batchmean' the total / N; fp32
    even under bf16 autocast (the dot product is a matmul-class op)."""
    from kd_mmdet.models.losses.kd_loss import batch_dot
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(6, 9, generator=g), torch.randn(6, 9, generator=g)
    rows = [sum(a[n, c].item() * b[n, c].item() for c in range(9)) for n in range(6)]
    torch.testing.assert_close(batch_dot(a, b, 'none'), torch.tensor(rows))
    assert batch_dot(a, b, 'sum').item() == pytest.approx(sum(rows), rel=1e-5)
    assert batch_dot(a, b, 'batchmean').item() == pytest.approx(sum(rows) / 6, rel=1e-5)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = batch_dot(a, b, 'sum')
    assert out.dtype == torch.float32 and out.item() == pytest.approx(sum(rows), rel=1e-5)
