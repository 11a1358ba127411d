import math

import pytest
import torch
from torch import nn

from kd_mmdet.models.connectors import ReviewKDConnector

IN_CHANNELS, MID, OUT = [3, 4, 5], 3, [2, 4, 3]
SHAPES = [(6, 5), (3, 3), (2, 1)]  # shallow to deep; odd sizes on purpose


def features(N=2, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(N, c, h, w, generator=g).requires_grad_(requires_grad)
                 for c, (h, w) in zip(IN_CHANNELS, SHAPES, strict=True))


def randomized_eval(connector, seed=0):
    """Random weights and BN statistics, eval mode: BN is a fixed affine map."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in connector.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g))
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=g))
                m.bias.copy_(torch.randn(m.num_features, generator=g))
    return connector.eval()


def bn_reference(bn, x):
    """Eval BatchNorm on nested lists [c][i][j]."""
    mean, var = bn.running_mean.tolist(), bn.running_var.tolist()
    w, b = bn.weight.tolist(), bn.bias.tolist()
    return [[[(v - mean[c]) / math.sqrt(var[c] + bn.eps) * w[c] + b[c] for v in row]
             for row in x[c]] for c in range(len(x))]


def abf_reference(abf, feat, residual):
    """Loop-by-loop ABF (Chen et al., CVPR 2021, Fig. 3) on one image of one level."""
    C, H, W = len(feat), len(feat[0]), len(feat[0][0])
    w1 = abf.conv1[0].weight[:, :, 0, 0].tolist()
    mid = len(w1)
    x = [[[sum(w1[m][c] * feat[c][i][j] for c in range(C)) for j in range(W)]
          for i in range(H)] for m in range(mid)]
    x = bn_reference(abf.conv1[1], x)
    if abf.att_conv is not None:
        h, w = len(residual[0]), len(residual[0][0])
        up = [[[residual[m][i * h // H][j * w // W] for j in range(W)] for i in range(H)]
              for m in range(mid)]  # nearest: source index floor(i * h / H)
        wa, ba = abf.att_conv[0].weight[:, :, 0, 0].tolist(), abf.att_conv[0].bias.tolist()
        fused = [[[0.0] * W for _ in range(H)] for _ in range(mid)]
        for i in range(H):
            for j in range(W):
                z = [1 / (1 + math.exp(-(sum(wa[k][m] * x[m][i][j] for m in range(mid))
                                         + sum(wa[k][mid + m] * up[m][i][j]
                                               for m in range(mid)) + ba[k])))
                     for k in range(2)]
                for m in range(mid):
                    fused[m][i][j] = z[0] * x[m][i][j] + z[1] * up[m][i][j]
        x = fused
    w2 = abf.conv2[0].weight.tolist()
    out = [[[sum(w2[o][m][di][dj] * x[m][i + di - 1][j + dj - 1]
                 for m in range(mid) for di in range(3) for dj in range(3)
                 if 0 <= i + di - 1 < H and 0 <= j + dj - 1 < W)
             for j in range(W)] for i in range(H)] for o in range(len(w2))]
    return bn_reference(abf.conv2[1], out), x


def test_matches_slow_transcription():
    """Deepest level first, attention-fused with the upsampled deeper residual."""
    connector = randomized_eval(ReviewKDConnector(IN_CHANNELS, OUT, MID))
    feats = features()
    with torch.no_grad():
        outs = connector(feats)
    for n in range(2):
        residual = None
        for level in reversed(range(len(feats))):
            ref, residual = abf_reference(connector.abfs[level], feats[level][n].tolist(),
                                          residual)
            torch.testing.assert_close(outs[level][n], torch.tensor(ref), rtol=1e-4,
                                       atol=1e-5)


def test_outputs_keep_level_order_and_sizes_with_teacher_channels():
    """One output per level, shallow to deep, each (N, out_channels[i], H_i, W_i)."""
    outs = ReviewKDConnector(IN_CHANNELS, OUT, MID)(features())
    assert isinstance(outs, tuple)
    expected = [(2, c, h, w) for c, (h, w) in zip(OUT, SHAPES, strict=True)]
    assert [tuple(o.shape) for o in outs] == expected
    assert ReviewKDConnector([3, 3], 7, 4).out_channels == [7, 7]


def test_review_flows_from_deep_to_shallow_only():
    """A shallow output depends on the deeper inputs; the deepest on nothing shallower.

    The outputs are weighted by fixed random tensors before summing: a plain sum of a
    train-mode BatchNorm's output has an exactly zero gradient, so only float rounding
    would have decided whether the deepest input "received" one."""
    torch.manual_seed(0)
    connector = ReviewKDConnector(IN_CHANNELS, OUT, MID)
    feats = features(requires_grad=True)
    outs = connector(feats)
    g = torch.Generator().manual_seed(1)
    weights = [torch.randn(o.shape, generator=g) for o in outs]
    (outs[0] * weights[0]).sum().backward(retain_graph=True)
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats)
    for f in feats:
        f.grad = None
    (outs[-1] * weights[-1]).sum().backward()
    assert feats[0].grad is None and feats[1].grad is None
    assert feats[2].grad.abs().sum() > 0


@pytest.mark.parametrize('kwargs, match', [
    (dict(in_channels=[3, 4], out_channels=[2, 3, 4], mid_channels=3),
     r'in_channels \[3, 4\] and out_channels \[2, 3, 4\]'),
    (dict(in_channels=[], out_channels=4, mid_channels=3), 'non-empty'),
    (dict(in_channels=[3, 0], out_channels=4, mid_channels=3),
     r'ReviewKDConnector: in_channels\[1\] .* got 0'),
    (dict(in_channels=[3, 4], out_channels=4, mid_channels=0),
     'ReviewKDConnector: mid_channels .* got 0'),
])
def test_bad_arguments_rejected(kwargs, match):
    """Inconsistent level lists or non-positive channels fail at build time."""
    with pytest.raises(ValueError, match=match):
        ReviewKDConnector(**kwargs)


def test_wrong_levels_rejected():
    """A wrong number of levels or wrong channels name the expected channels and shapes."""
    connector = ReviewKDConnector(IN_CHANNELS, OUT, MID)
    with pytest.raises(ValueError, match=r'expected 3 4-d maps with channels \[3, 4, 5\], '
                                         r'got shapes \[\(2, 3, 6, 5\), \(2, 4, 3, 3\)\]'):
        connector(features()[:2])
    with pytest.raises(ValueError, match=r'channels \[3, 4, 5\]'):
        connector(tuple(torch.randn(2, 4, 2, 2) for _ in range(3)))


def test_built_through_mmrazor_registry_as_a_connector():
    """`kd_mmdet.ReviewKDConnector` builds from mmrazor's registry; a BaseConnector."""
    from mmrazor.models.architectures.connectors.base_connector import BaseConnector
    from mmrazor.registry import MODELS
    connector = MODELS.build(dict(type='kd_mmdet.ReviewKDConnector', in_channels=[64] * 5,
                                  out_channels=128, mid_channels=128))
    assert isinstance(connector, ReviewKDConnector) and isinstance(connector, BaseConnector)
    assert len(connector.abfs) == 5 and connector.abfs[-1].att_conv is None


def test_configurable_distiller_feeds_the_whole_neck_tuple():
    """A `neck` ModuleOutputs recorder without data_idx → connector → HCLLoss on tuples."""
    from mmrazor.models.distillers import ConfigurableDistiller

    class Neck(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv2d(1, channels, 1) for _ in SHAPES)

        def forward(self, x):
            return tuple(conv(nn.functional.adaptive_avg_pool2d(x, size))
                         for conv, size in zip(self.convs, SHAPES, strict=True))

    class Toy(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.neck = Neck(channels)

        def forward(self, x):
            return self.neck(x)

    distiller = ConfigurableDistiller(
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        connectors=dict(review=dict(type='kd_mmdet.ReviewKDConnector', in_channels=[2] * 3,
                                    out_channels=4, mid_channels=3)),
        distill_losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss')),
        loss_forward_mappings=dict(loss_reviewkd=dict(
            preds_S=dict(from_student=True, recorder='fpn', connector='review'),
            preds_T=dict(from_student=False, recorder='fpn'))))
    student, teacher = Toy(2), Toy(4)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.randn(2, 1, 12, 10)
    with distiller.student_recorders:
        student(x)
    with distiller.teacher_recorders:
        teacher(x)
    loss = distiller.compute_distill_losses()['loss_reviewkd']
    assert loss.dim() == 0 and torch.isfinite(loss) and loss.item() > 0
