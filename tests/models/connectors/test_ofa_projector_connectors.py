import pytest
import torch
import torch.nn.functional as F
from torch import nn

from kd_mmdet.models.connectors import OFABranch, ProjectorBN


@pytest.mark.parametrize('num_downsample,size', [(0, 8), (1, 16), (2, 32)])
def test_ofa_branch_maps_any_stage_to_logits(num_downsample, size):
    """Stage features of any resolution give (N, num_classes) logits."""
    branch = OFABranch(16, 64, 10, num_downsample)
    assert branch(torch.randn(2, 16, size, size)).shape == (2, 10)


def test_ofa_branch_downsamples_and_widens_like_the_official_code():
    """Each block halves the resolution and doubles the channels; the last maps to out."""
    branch = OFABranch(16, 96, 10, num_downsample=2)
    x = torch.randn(2, 16, 32, 32)
    first = branch.blocks[0](x)
    assert first.shape == (2, 32, 16, 16)
    assert branch.blocks[1](first).shape == (2, 96, 8, 8)
    assert branch.fc.in_features == 96


def sep_conv_params(c_in, c_out):
    """Parameters of OFA's SepConv: two depthwise 3×3 (bias-free), 1×1 c_in→c_in and
    c_in→c_out (bias-free), two affine BatchNorms."""
    return 9 * c_in + c_in * c_in + 2 * c_in + 9 * c_in + c_in * c_out + 2 * c_out


def test_ofa_branch_layers_and_parameter_count_are_the_official_sepconv():
    """Per block: dw 3×3 stride 2, 1×1, BN, ReLU, dw 3×3, 1×1, BN, ReLU (OFA's SepConv,
    kernel 3, padding 1, no conv bias); then pooling and one linear layer."""
    branch = OFABranch(16, 96, 10, num_downsample=2)
    assert [type(b) for b in branch.blocks] == [type(branch.blocks[0])] * 2
    for block, (c_in, c_out) in zip(branch.blocks, [(16, 32), (32, 96)]):
        layers = list(block)
        assert [type(m) for m in layers] == [nn.Conv2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU,
                                             nn.Conv2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
        dw1, pw1, bn1, _, dw2, pw2, bn2, _ = layers
        assert (dw1.in_channels, dw1.out_channels, dw1.groups) == (c_in, c_in, c_in)
        assert (dw1.kernel_size, dw1.stride, dw1.padding) == ((3, 3), (2, 2), (1, 1))
        assert (pw1.in_channels, pw1.out_channels, pw1.kernel_size) == (c_in, c_in, (1, 1))
        assert (dw2.groups, dw2.kernel_size, dw2.stride, dw2.padding) == \
            (c_in, (3, 3), (1, 1), (1, 1))
        assert (pw2.in_channels, pw2.out_channels, pw2.kernel_size) == (c_in, c_out, (1, 1))
        assert all(conv.bias is None for conv in (dw1, pw1, dw2, pw2))
        assert (bn1.num_features, bn2.num_features) == (c_in, c_out) and bn1.affine
    assert isinstance(branch.pool, nn.AdaptiveAvgPool2d) and branch.pool.output_size == 1
    expected = sep_conv_params(16, 32) + sep_conv_params(32, 96) + 96 * 10 + 10
    assert sum(p.numel() for p in branch.parameters()) == expected
    # The last stage: one 1×1 convolution (with bias) to out_channels.
    last = OFABranch(16, 96, 10, num_downsample=0)
    assert sum(p.numel() for p in last.parameters()) == 16 * 96 + 96 + 96 * 10 + 10


def test_ofa_branch_matches_a_functional_transcription():
    """The branch's output equals dw-conv / 1×1 / BN / ReLU written with F on its own
    weights (train-mode BatchNorm: batch statistics), then mean pooling and x Wᵀ + b."""
    torch.manual_seed(0)
    branch = OFABranch(8, 24, 5, num_downsample=2).train()
    for m in branch.modules():  # non-trivial affine BN parameters
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.5, 0.5)
    x = torch.randn(4, 8, 16, 16)

    def bn(y, m):
        mean = y.mean(dim=(0, 2, 3), keepdim=True)
        var = y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        return (y - mean) / torch.sqrt(var + m.eps) * m.weight[:, None, None] + \
            m.bias[:, None, None]

    out = x
    for block in branch.blocks:
        dw1, pw1, bn1, _, dw2, pw2, bn2, _ = block
        out = F.conv2d(out, dw1.weight, stride=2, padding=1, groups=out.size(1))
        out = F.relu(bn(F.conv2d(out, pw1.weight), bn1))
        out = F.conv2d(out, dw2.weight, stride=1, padding=1, groups=out.size(1))
        out = F.relu(bn(F.conv2d(out, pw2.weight), bn2))
    assert out.shape == (4, 24, 4, 4)
    expected = out.mean(dim=(2, 3)) @ branch.fc.weight.T + branch.fc.bias
    assert torch.allclose(branch(x), expected, atol=1e-5)


def test_ofa_branch_gradient_reaches_input():
    """The branch passes gradients back to the student stage."""
    x = torch.randn(2, 8, 16, 16, requires_grad=True)
    OFABranch(8, 16, 5, 1)(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_ofa_branch_rejects_wrong_channels_and_arguments():
    """Wrong input channels and bad arguments name the component."""
    with pytest.raises(ValueError, match=r'OFABranch: expected \(N, 16, H, W\)'):
        OFABranch(16, 32, 10, 1)(torch.randn(2, 8, 16, 16))
    with pytest.raises(ValueError, match='OFABranch: num_downsample'):
        OFABranch(16, 32, 10, -1)
    with pytest.raises(ValueError, match='OFABranch: num_classes'):
        OFABranch(16, 32, 0, 1)


def test_projector_bn_normalises_without_affine():
    """Train-mode output has zero mean and unit variance per dimension; no affine params."""
    proj = ProjectorBN(out_channels=8, in_channels=4).train()
    out = proj(torch.randn(64, 4) * 5 + 3)
    assert out.shape == (64, 8)
    assert torch.allclose(out.mean(0), torch.zeros(8), atol=1e-5)
    assert torch.allclose(out.var(0, unbiased=False), torch.ones(8), atol=1e-2)
    assert proj.bn.weight is None and proj.bn.bias is None
    assert [n for n, _ in proj.named_parameters()] == ['projector.weight', 'projector.bias']


def test_projector_bn_teacher_side_has_no_parameters():
    """Without in_channels it is the BatchNorm alone (no learnable parameter)."""
    bn = ProjectorBN(out_channels=6)
    assert isinstance(bn.projector, torch.nn.Identity) and not list(bn.parameters())
    assert bn(torch.randn(10, 6)).shape == (10, 6)


def test_projector_bn_rejects_wrong_width():
    """A feature of the wrong width names the expected shape."""
    with pytest.raises(ValueError, match=r'ProjectorBN: expected pooled features \(N, 4\)'):
        ProjectorBN(out_channels=8, in_channels=4)(torch.randn(3, 5))


def test_built_by_scoped_name():
    """Configs name them `kd_mmdet.OFABranch` / `kd_mmdet.ProjectorBN`."""
    from mmrazor.registry import MODELS
    assert isinstance(MODELS.build(dict(type='kd_mmdet.OFABranch', in_channels=4,
                                        out_channels=8, num_classes=3, num_downsample=1)),
                      OFABranch)
    assert isinstance(MODELS.build(dict(type='kd_mmdet.ProjectorBN', out_channels=8)),
                      ProjectorBN)
