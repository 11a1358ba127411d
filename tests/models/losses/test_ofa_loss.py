import math

import pytest
import torch
import torch.nn.functional as F

from kd_mmdet.models.losses import KDLoss, OFALoss, kd_loss, ofa_loss


def softmax(row, T):
    e = [math.exp(v / T) for v in row]
    return [v / sum(e) for v in e]


def ofa_reference(s, t, labels, eps, T):
    """Loop transcription of the official form: -sum_c ((p_T + 1_gt)^eps - 1_gt) log p_S."""
    per_sample = []
    for zs, zt, y in zip(s.tolist(), t.tolist(), labels.tolist()):
        ps, pt = softmax(zs, T), softmax(zt, T)
        loss = 0.0
        for c in range(len(zs)):
            one = 1.0 if c == y else 0.0
            loss -= ((pt[c] + one)**eps - one) * math.log(ps[c])
        per_sample.append(loss)
    return per_sample


def paper_reference(s, t, labels, gamma):
    """The paper's form at T=1: -(1 + p_t)^gamma log p_t^S - sum_{c != t} p_c log p_c^S."""
    per_sample = []
    for zs, zt, y in zip(s.tolist(), t.tolist(), labels.tolist()):
        ps, pt = softmax(zs, 1.0), softmax(zt, 1.0)
        loss = -(1 + pt[y])**gamma * math.log(ps[y])
        loss -= sum(pt[c] * math.log(ps[c]) for c in range(len(zs)) if c != y)
        per_sample.append(loss)
    return per_sample


def batch(seed=0, n=4, c=6):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, c, generator=g) * 2, torch.randn(n, c, generator=g) * 2,
            torch.randint(0, c, (n, ), generator=g))


@pytest.mark.parametrize('eps,T', [(1.0, 1.0), (1.5, 1.0), (2.0, 2.0), (0.5, 4.0)])
def test_matches_slow_transcription(eps, T):
    """Per-sample and batch-mean values equal the per-class loop."""
    s, t, y = batch()
    ref = ofa_reference(s, t, y, eps, T)
    assert ofa_loss(s, t, y, eps, T, 'none').tolist() == pytest.approx(ref, rel=1e-5)
    assert ofa_loss(s, t, y, eps, T).item() == pytest.approx(sum(ref) / 4, rel=1e-5)


@pytest.mark.parametrize('gamma', [1.0, 1.5, 3.0])
def test_paper_form_differs_from_official_form_as_documented(gamma):
    """Paper form = official form + CE to the label + sum_{c != t} (p_c^g - p_c) log p_c^S
    (the official code raises the non-target weights to the exponent too)."""
    s, t, y = batch(1)
    ce = F.cross_entropy(s, y, reduction='none')
    p_T, log_p_S = torch.softmax(t, 1), torch.log_softmax(s, 1)
    other = 1 - F.one_hot(y, s.size(1))
    extra = ((p_T.pow(gamma) - p_T) * log_p_S * other).sum(1)
    ours = ofa_loss(s, t, y, gamma, reduction='none') + ce + extra
    assert ours.tolist() == pytest.approx(paper_reference(s, t, y, gamma), rel=1e-5)
    if gamma == 1.0:
        assert extra.abs().max() == 0


@pytest.mark.parametrize('T', [1.0, 4.0])
def test_eps_one_is_kd_up_to_teacher_entropy(T):
    """At eps=1: OFA * T^2 = KD + T^2 H(p_T), and both give the same student gradient."""
    s, t, y = batch(2)
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    ofa = ofa_loss(s1, t, y, 1.0, T, 'none')
    kd = kd_loss(s2, t, T, 'none')
    p_T = torch.softmax(t / T, 1)
    entropy = -(p_T * p_T.log()).sum(1)
    assert (ofa * T**2).tolist() == pytest.approx((kd + T**2 * entropy).tolist(), rel=1e-5)
    (ofa.sum() * T**2).backward()
    kd.sum().backward()
    assert torch.allclose(s1.grad, s2.grad, atol=1e-6)


def test_eps_above_one_pulls_harder_on_the_target():
    """eps > 1 raises the target's weight, so the target logit's gradient grows."""
    s, t, y = batch(3)
    grads = []
    for eps in (1.0, 2.0):
        x = s.clone().requires_grad_()
        ofa_loss(x, t, y, eps).backward()
        grads.append(x.grad.gather(1, y[:, None]))
    assert (grads[1] < grads[0]).all()  # more negative: the target logit is pushed up more


def test_gradient_reaches_student_not_teacher():
    """Only the student gets a (finite, non-zero) gradient."""
    s, t, y = batch(4)
    s.requires_grad_()
    t.requires_grad_()
    OFALoss(eps=1.5)(s, t, y).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_weight_is_linear_and_reductions_agree():
    """loss_weight scales linearly; 'none' sums to 'sum'."""
    s, t, y = batch(5)
    assert OFALoss(loss_weight=3.0)(s, t, y).item() == pytest.approx(
        3 * OFALoss()(s, t, y).item(), rel=1e-6)
    assert OFALoss(reduction='none')(s, t, y).sum().item() == pytest.approx(
        OFALoss(reduction='sum')(s, t, y).item(), rel=1e-6)


def test_saturated_logits_stay_finite():
    """Logits of +-1e4 give a finite loss and gradient."""
    s = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    t = torch.tensor([[-1e4, 1e4, 0.0], [1e4, -1e4, 0.0]])
    loss = OFALoss(eps=1.5)(s, t, torch.tensor([0, 2]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()


@pytest.mark.parametrize('kwargs', [dict(eps=0), dict(eps=-1.0), dict(temperature=0),
                                    dict(loss_weight=-1), dict(reduction='mean')])
def test_bad_arguments_rejected(kwargs):
    """Non-positive eps or temperature, negative weight, unknown reduction fail at build."""
    with pytest.raises(ValueError, match='OFALoss'):
        OFALoss(**kwargs)


def test_bad_inputs_name_shapes():
    """Shape mismatches and bad labels fail with the component and shapes named."""
    s, t, y = batch(6)
    with pytest.raises(ValueError, match=r'OFALoss: student \(4, 6\) vs teacher \(4, 5\)'):
        OFALoss()(s, t[:, :5], y)
    with pytest.raises(ValueError, match='OFALoss: gt_labels must lie in'):
        OFALoss()(s, t, torch.tensor([0, 1, 2, 6]))
    with pytest.raises(ValueError, match='OFALoss: gt_labels must be an integer tensor'):
        OFALoss()(s, t, y.float())


def test_built_through_mmrazor_registry():
    """Configs name it `kd_mmdet.OFALoss` from mmrazor's registry."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.OFALoss', eps=1.5))
    assert isinstance(loss, OFALoss) and loss.eps == 1.5
    assert not isinstance(loss, KDLoss)
