import pytest
import torch

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
