import math

import pytest
import torch

from kd_mmdet.models.losses import HCLLoss, hcl_level_loss, hcl_loss


def adaptive_avg_reference(f, size):
    """Loop-by-loop adaptive average pooling of one (H, W) map to (size, size)."""
    H, W = len(f), len(f[0])
    out = [[0.0] * size for _ in range(size)]
    for a in range(size):
        r0, r1 = math.floor(a * H / size), math.ceil((a + 1) * H / size)
        for b in range(size):
            c0, c1 = math.floor(b * W / size), math.ceil((b + 1) * W / size)
            cells = [f[i][j] for i in range(r0, r1) for j in range(c0, c1)]
            out[a][b] = sum(cells) / len(cells)
    return out


def hcl_reference(s, t, pool_sizes=(4, 2, 1)):
    """Loop-by-loop HCL of one level (Chen et al., CVPR 2021; official skip of l >= H)."""
    N, C, H, _ = s.shape

    def mse(pooled_s, pooled_t):
        diffs = [(a - b)**2 for ps, pt in zip(pooled_s, pooled_t, strict=True)
                 for rs, rt in zip(ps, pt, strict=True) for a, b in zip(rs, rt, strict=True)]
        return sum(diffs) / len(diffs)

    maps_s = [s[n, c].tolist() for n in range(N) for c in range(C)]
    maps_t = [t[n, c].tolist() for n in range(N) for c in range(C)]
    loss, weight, total = mse(maps_s, maps_t), 1.0, 1.0
    for size in pool_sizes:
        if size >= H:
            continue
        weight /= 2
        total += weight
        loss += weight * mse([adaptive_avg_reference(f, size) for f in maps_s],
                             [adaptive_avg_reference(f, size) for f in maps_t])
    return loss / total


@pytest.mark.parametrize('shape', [(2, 3, 6, 5), (2, 3, 9, 9), (1, 2, 3, 3), (2, 2, 1, 1)])
@pytest.mark.parametrize('pool_sizes', [(4, 2, 1), (2, 1), (3,)])
def test_matches_slow_transcription(shape, pool_sizes):
    """Each level equals the loop-by-loop full-resolution + pooled weighted MSE."""
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)
    ref = hcl_reference(s, t, pool_sizes)
    assert hcl_level_loss(s, t, pool_sizes).item() == pytest.approx(ref, rel=1e-5)


def test_official_weights_on_a_large_map():
    """On H > 4 the four terms weigh 1, 0.5, 0.25, 0.125 over their sum 1.875."""
    s, t = torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8)
    s[0, 0, 0, 0] = 8.0  # one cell; pooling to l x l averages it over (8/l)^2 cells
    terms = [64 / 64, (8 / 4)**2 / 16, (8 / 16)**2 / 4, (8 / 64)**2]
    expected = (terms[0] + 0.5 * terms[1] + 0.25 * terms[2] + 0.125 * terms[3]) / 1.875
    assert hcl_level_loss(s, t).item() == pytest.approx(expected, rel=1e-6)


def test_tuples_of_levels_are_summed():
    """A tuple of FPN levels gives the sum of the per-level losses."""
    g = torch.Generator().manual_seed(1)
    shapes = [(2, 4, 16, 12), (2, 4, 8, 6), (2, 4, 4, 3), (2, 4, 2, 2), (2, 4, 1, 1)]
    s = tuple(torch.randn(*sh, generator=g) for sh in shapes)
    t = tuple(torch.randn(*sh, generator=g) for sh in shapes)
    expected = sum(hcl_level_loss(a, b).item() for a, b in zip(s, t, strict=True))
    assert HCLLoss()(s, t).item() == pytest.approx(expected, rel=1e-6)
    assert hcl_loss(s[0], t[0]).item() == pytest.approx(hcl_level_loss(s[0], t[0]).item())


def test_zero_when_student_equals_teacher():
    """Identical maps give zero at every scale."""
    t = (torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4))
    assert HCLLoss()(tuple(x.clone() for x in t), t).item() == 0.0


def test_gradient_reaches_student_not_teacher():
    """Only the student maps get a (finite, non-zero) gradient."""
    s = [torch.randn(2, 4, 6, 6, requires_grad=True), torch.randn(2, 4, 3, 3,
                                                                  requires_grad=True)]
    t = [torch.randn(2, 4, 6, 6, requires_grad=True), torch.randn(2, 4, 3, 3,
                                                                  requires_grad=True)]
    HCLLoss()(s, t).backward()
    for x in s:
        assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(x.grad is None for x in t)


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t = torch.randn(1, 2, 5, 5), torch.randn(1, 2, 5, 5)
    assert HCLLoss(loss_weight=1.2)(s, t).item() == pytest.approx(
        1.2 * HCLLoss(loss_weight=1.0)(s, t).item(), rel=1e-6)


def test_bad_shapes_rejected():
    """Mismatched shapes, level counts or kinds name what is wrong."""
    with pytest.raises(ValueError, match=r'HCLLoss: student \(2, 64, 8, 8\) vs teacher '
                                         r'\(2, 128, 8, 8\).*connector'):
        HCLLoss()(torch.randn(2, 64, 8, 8), torch.randn(2, 128, 8, 8))
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match='HCLLoss: student 2 levels vs teacher 1 levels'):
        HCLLoss()((x, x), (x,))
    with pytest.raises(ValueError, match=r'HCLLoss: student \(1, 2, 4, 4\) vs teacher '
                                         r'1 levels'):
        HCLLoss()(x, (x,))


@pytest.mark.parametrize('kwargs, match', [
    (dict(loss_weight=-1.0), 'HCLLoss: loss_weight .* got -1.0'),
    (dict(pool_sizes=(4, 0)), r'HCLLoss: pool_sizes must be positive ints, got \(4, 0\)'),
    (dict(pool_sizes=(2.5,)), 'HCLLoss: pool_sizes'),
])
def test_bad_arguments_rejected(kwargs, match):
    """Negative weight or non-positive pool sizes fail at build time."""
    with pytest.raises(ValueError, match=match):
        HCLLoss(**kwargs)


def test_built_through_mmrazor_registry_by_scoped_name():
    """Configs name it `kd_mmdet.HCLLoss` from mmrazor's registry."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.HCLLoss', loss_weight=1.2, pool_sizes=[2, 1]))
    assert isinstance(loss, HCLLoss) and loss.loss_weight == 1.2
    assert loss.pool_sizes == (2, 1)
