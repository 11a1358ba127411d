import math

import pytest
import torch

from kd_mmdet.models.losses import DKDLoss, dkd_loss, dkd_warmup_factor, kd_loss


def softmax(z, T):
    e = [math.exp(v / T) for v in z]
    return [v / sum(e) for v in e]


def dkd_reference(s, t, labels, T):
    """Loop-by-loop transcription of Zhao et al. (CVPR 2022), eq. 2-4: per-sample
    (TCKD, NCKD), each times T²."""
    terms = []
    for zs, zt, gt in zip(s.tolist(), t.tolist(), labels.tolist()):
        ps, pt = softmax(zs, T), softmax(zt, T)
        bs, bt = [ps[gt], 1 - ps[gt]], [pt[gt], 1 - pt[gt]]
        tckd = sum(bt[j] * math.log(bt[j] / bs[j]) for j in range(2))
        nckd = 0.0
        for c in range(len(zs)):
            if c != gt:
                qs, qt = ps[c] / (1 - ps[gt]), pt[c] / (1 - pt[gt])
                nckd += qt * math.log(qt / qs)
        terms.append((tckd * T**2, nckd * T**2))
    return terms


def random_batch(seed, N=4, C=6, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(N, C, generator=g) * scale, torch.randn(N, C, generator=g) * scale
    return s, t, torch.randint(0, C, (N, ), generator=g)


@pytest.mark.parametrize('T', [0.5, 1.0, 4.0])
def test_terms_match_slow_transcription(T):
    """Per-sample TCKD and NCKD equal the per-class loop at several temperatures."""
    s, t, labels = random_batch(0)
    ref = dkd_reference(s, t, labels, T)
    tckd, nckd = dkd_loss(s, t, labels, T, reduction='none')
    tol = 1e-6 * max(1.0, T**2)  # fp32 log-probabilities carry ~1e-7 absolute error
    assert tckd.tolist() == pytest.approx([r[0] for r in ref], rel=1e-4, abs=tol)
    assert nckd.tolist() == pytest.approx([r[1] for r in ref], rel=1e-4, abs=tol)


@pytest.mark.parametrize('alpha,beta,T', [(1.0, 8.0, 4.0), (1.0, 0.5, 1.0), (2.0, 0.25, 2.0)])
def test_module_combines_terms_and_averages_over_batch(alpha, beta, T):
    """DKDLoss = w·(α·TCKD + β·NCKD), summed over samples then divided by N."""
    s, t, labels = random_batch(1)
    ref = dkd_reference(s, t, labels, T)
    expected = 1.5 * sum(alpha * a + beta * b for a, b in ref) / len(ref)
    loss = DKDLoss(alpha=alpha, beta=beta, temperature=T, loss_weight=1.5)(s, t, labels)
    assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_kd_equals_tckd_plus_weighted_nckd():
    """Per sample, KD = TCKD + (1 − p_t^T)·NCKD (paper, eq. 1), at several temperatures."""
    s, t, labels = random_batch(2, N=5, C=7)
    for T in (1.0, 2.0, 4.0):
        tckd, nckd = dkd_loss(s, t, labels, T, reduction='none')
        p_target_T = torch.softmax(t / T, dim=1).gather(1, labels[:, None]).squeeze(1)
        kd = kd_loss(s, t, T, reduction='none')
        torch.testing.assert_close(kd, tckd + (1 - p_target_T) * nckd, rtol=1e-5, atol=1e-6)


def test_hand_computed_target_at_and_away_from_teacher_argmax():
    """p_S = (1/3, 1/3, 1/3), p_T = (1/2, 1/4, 1/4): closed forms for labels 0 and 1."""
    s = torch.zeros(2, 3)
    t = torch.tensor([[math.log(2.0), 0.0, 0.0]] * 2)
    tckd, nckd = dkd_loss(s, t, torch.tensor([0, 1]), 1.0, reduction='none')
    # label 0 (teacher's argmax): b_T = (1/2, 1/2), b_S = (1/3, 2/3); the non-target
    # distributions are both uniform, so NCKD = 0
    approx = dict(rel=1e-5, abs=1e-7)
    assert tckd[0].item() == pytest.approx(0.5 * math.log(1.5) + 0.5 * math.log(0.75), **approx)
    assert nckd[0].item() == pytest.approx(0.0, abs=1e-7)
    # label 1: b_T = (1/4, 3/4), b_S = (1/3, 2/3); non-target (2/3, 1/3) vs (1/2, 1/2)
    assert tckd[1].item() == pytest.approx(0.25 * math.log(0.75) + 0.75 * math.log(1.125),
                                           **approx)
    assert nckd[1].item() == pytest.approx(2 / 3 * math.log(4 / 3) + 1 / 3 * math.log(2 / 3),
                                           **approx)


@pytest.mark.filterwarnings('ignore:size_average and reduce args')
def test_matches_mmrazor_batchmean_and_its_silent_sum():
    """Equal to mmrazor 1.0's DKDLoss with its default 'batchmean'; its 'mean' and 'none'
    silently sum (legacy size_average=False), which is our 'sum'."""
    from mmrazor.models.losses import DKDLoss as MMRazorDKDLoss
    s, t, labels = random_batch(3, N=6, C=10)
    ours = DKDLoss(alpha=1.0, beta=8.0, temperature=4.0)
    ref = MMRazorDKDLoss(tau=4.0, alpha=1.0, beta=8.0, reduction='batchmean')(s, t, labels)
    assert ours(s, t, labels).item() == pytest.approx(ref.item(), rel=1e-5)
    ref_none = MMRazorDKDLoss(tau=4.0, alpha=1.0, beta=8.0, reduction='none')(s, t, labels)
    assert ref_none.shape == ()
    assert ref_none.item() == pytest.approx(6 * ref.item(), rel=1e-5)
    assert DKDLoss(reduction='none')(s, t, labels).shape == (6, )


def test_reduction_none_sum_batchmean_agree():
    """'none' gives (N,) whose sum is 'sum' and whose mean is 'batchmean'."""
    s, t, labels = random_batch(4)
    per_sample = DKDLoss(reduction='none')(s, t, labels)
    assert per_sample.shape == (4, )
    assert per_sample.sum().item() == pytest.approx(
        DKDLoss(reduction='sum')(s, t, labels).item(), rel=1e-6)
    assert per_sample.mean().item() == pytest.approx(DKDLoss()(s, t, labels).item(), rel=1e-6)


def test_return_terms_sum_to_loss():
    """return_terms gives the weighted TCKD and NCKD, which add up to the loss."""
    s, t, labels = random_batch(5)
    loss = DKDLoss(alpha=2.0, beta=3.0, loss_weight=0.5)
    terms = loss(s, t, labels, return_terms=True)
    assert set(terms) == {'tckd', 'nckd'}
    tckd, nckd = dkd_loss(s, t, labels, 4.0)
    assert terms['tckd'].item() == pytest.approx(0.5 * 2.0 * tckd.item(), rel=1e-6)
    assert terms['nckd'].item() == pytest.approx(0.5 * 3.0 * nckd.item(), rel=1e-6)
    assert (terms['tckd'] + terms['nckd']).item() == pytest.approx(
        loss(s, t, labels).item(), rel=1e-6)


def test_zero_when_student_equals_teacher():
    """Both terms vanish when the student reproduces the teacher."""
    _, t, labels = random_batch(6)
    tckd, nckd = dkd_loss(t.clone(), t, labels, 4.0)
    assert tckd.item() == pytest.approx(0.0, abs=1e-6)
    assert nckd.item() == pytest.approx(0.0, abs=1e-6)


def test_terms_exact_for_logits_far_from_zero():
    """Both terms are unchanged by a constant added to a row: rows shifted to -1e4 give
    the unshifted rows' terms (for two uniform rows 0, where float32 logits at -1e4 / T
    once gave -4e-4), and the same gradient."""
    s, t, labels = random_batch(11, N=3, C=5)
    # Multiples of 1/64 stay exact when shifted by 1e4 in float32 (20 of 24 bits).
    s, t = (s * 64).round() / 64, (t * 64).round() / 64
    for T in (1.0, 3.0):
        for shift_s, shift_t in [(0.0, -1e4), (-1e4, 0.0), (1e4, -1e4)]:
            ref = dkd_loss(s, t, labels, T, reduction='none')
            got = dkd_loss(s + shift_s, t + shift_t, labels, T, reduction='none')
            for a, b in zip(got, ref):
                torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    uniform = torch.zeros(1, 3)
    tckd, nckd = dkd_loss(uniform, uniform - 1e4, torch.tensor([0]), 3.0)
    assert tckd.item() == pytest.approx(0.0, abs=1e-6)
    assert nckd.item() == pytest.approx(0.0, abs=1e-6)
    x = s.clone().requires_grad_()
    sum(dkd_loss(x, t, labels, 2.0)).backward()
    y = (s - 1e4).requires_grad_()
    sum(dkd_loss(y, t, labels, 2.0)).backward()
    torch.testing.assert_close(y.grad, x.grad, atol=1e-6, rtol=1e-4)


def test_gradient_reaches_student_not_teacher():
    """Each term alone gives the student a finite non-zero gradient; the teacher none."""
    s0, t0, labels = random_batch(7)
    for alpha, beta in [(1.0, 0.0), (0.0, 1.0)]:
        s, t = s0.clone().requires_grad_(), t0.clone().requires_grad_()
        DKDLoss(alpha=alpha, beta=beta)(s, t, labels).backward()
        assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
        assert t.grad is None


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t, labels = random_batch(8)
    assert DKDLoss(loss_weight=3.0)(s, t, labels).item() == pytest.approx(
        3.0 * DKDLoss()(s, t, labels).item(), rel=1e-6)


def test_nckd_ignores_the_target_logit_even_when_extreme():
    """NCKD depends only on the non-target logits: a target logit of 1e4 (where the official
    subtract-1000 mask would leave the target dominant) changes nothing."""
    s, t, labels = random_batch(9, N=3, C=5)
    s_extreme = s.clone()
    s_extreme[torch.arange(3), labels] = 1e4
    _, nckd = dkd_loss(s, t, labels, 1.0, reduction='none')
    _, nckd_extreme = dkd_loss(s_extreme, t, labels, 1.0, reduction='none')
    torch.testing.assert_close(nckd_extreme, nckd)


def test_nckd_gradient_at_the_target_logit_is_zero():
    """NCKD is a function of the non-target logits only: its gradient with respect to the
    student's target logit is exactly 0, at ordinary and at extreme target logits."""
    s, t, labels = random_batch(10, N=3, C=5)
    rows = torch.arange(3)
    for target_logit in (None, 1e4, -1e4):
        s_in = s.clone()
        if target_logit is not None:
            s_in[rows, labels] = target_logit
        s_in.requires_grad_()
        _, nckd = dkd_loss(s_in, t, labels, 2.0)
        nckd.backward()
        assert torch.all(s_in.grad[rows, labels] == 0)
        assert torch.isfinite(s_in.grad).all() and s_in.grad.abs().sum() > 0


def test_extreme_logits_give_finite_loss_and_gradient():
    """Logits of ±1e4 (p_t rounding to 0 or 1) give a finite loss and gradient."""
    s = torch.tensor([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, 1e4, 0.0]], requires_grad=True)
    t = torch.tensor([[-1e4, 1e4, 0.0, 0.0], [1e4, -1e4, 0.0, 1e4]])
    loss = DKDLoss(temperature=1.0)(s, t, torch.tensor([0, 1]))
    loss.backward()
    assert torch.isfinite(loss) and loss > 0 and torch.isfinite(s.grad).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_input_gives_finite_loss(dtype):
    """fp16/bf16 logits are computed in fp32: finite, equal to the fp32 loss."""
    s, t, labels = random_batch(10, scale=30.0)
    s, t = s.to(dtype), t.to(dtype)
    loss = DKDLoss(temperature=1.0)(s, t, labels)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(
        DKDLoss(temperature=1.0)(s.float(), t.float(), labels).item(), rel=1e-5)


@pytest.mark.parametrize('kwargs', [dict(temperature=0), dict(temperature=-1.0),
                                    dict(alpha=-1.0), dict(beta=-0.5), dict(loss_weight=-1),
                                    dict(beta=float('nan')), dict(reduction='mean')])
def test_bad_arguments_rejected(kwargs):
    """Non-positive temperature, negative weights or unknown reduction fail at build time."""
    with pytest.raises(ValueError, match='DKDLoss'):
        DKDLoss(**kwargs)


def test_bad_shapes_and_labels_name_component_and_shapes():
    """Shape, label-count, label-dtype, label-range and class-count errors are explicit."""
    loss = DKDLoss()
    with pytest.raises(ValueError, match=r'DKDLoss: student \(2, 5\) vs teacher \(2, 6\)'):
        loss(torch.randn(2, 5), torch.randn(2, 6), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'DKDLoss: gt_labels .* \(2, 5\), got .*\(3,\)'):
        loss(torch.randn(2, 5), torch.randn(2, 5), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r'DKDLoss: gt_labels must be an integer tensor'):
        loss(torch.randn(2, 5), torch.randn(2, 5), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r'DKDLoss: gt_labels must lie in \[0, 5\)'):
        loss(torch.randn(2, 5), torch.randn(2, 5), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match=r'DKDLoss: needs at least 2 classes'):
        loss(torch.randn(2, 1), torch.randn(2, 1), torch.tensor([0, 0]))


def test_built_through_mmrazor_registry_by_scoped_name():
    """`kd_mmdet.DKDLoss` from mmrazor's registry is ours, not mmrazor's DKDLoss."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=0.25, temperature=1.0))
    assert isinstance(loss, DKDLoss) and loss.beta == 0.25 and loss.reduction == 'batchmean'


def test_warmup_factor():
    """min(epoch / warmup, 1); no warm-up when warmup is 0; negative epochs rejected."""
    assert dkd_warmup_factor(0, 20) == 0.0
    assert dkd_warmup_factor(10, 20) == 0.5
    assert dkd_warmup_factor(40, 20) == 1.0
    assert dkd_warmup_factor(3, 0) == 1.0
    with pytest.raises(ValueError, match='dkd_warmup_factor: epoch'):
        dkd_warmup_factor(-1, 20)


def test_return_terms_from_constructor():
    """return_terms=True at construction gives the dict a distiller logs per term."""
    s, t, labels = random_batch(4)
    terms = DKDLoss(beta=0.25, temperature=1.0, return_terms=True)(s, t, labels)
    total = DKDLoss(beta=0.25, temperature=1.0)(s, t, labels)
    assert set(terms) == {'tckd', 'nckd'}
    assert (terms['tckd'] + terms['nckd']).item() == pytest.approx(total.item(), rel=1e-6)
