import pytest
import torch
from torch import nn

from kd_mmdet.models.connectors import MGDConnector, mgd_spatial_mask


def connector_reference(connector, x, seed):
    """Slow MGD student branch: align, drop positions with u > 1 - λ, generate."""
    N, _, H, W = x.shape
    if connector.align is not None:
        x = connector.align(x)
    torch.manual_seed(seed)
    u = torch.rand((N, 1, H, W))
    masked = x.clone()
    for n in range(N):
        for i in range(H):
            for j in range(W):
                if u[n, 0, i, j] > 1 - connector.lambda_mgd:
                    masked[n, :, i, j] = 0
    return connector.generation(masked)


@pytest.mark.parametrize('lambda_mgd', [0.0, 0.45, 0.65])
@pytest.mark.parametrize('channels', [(4, 4), (3, 6)])
def test_matches_slow_transcription(lambda_mgd, channels):
    """align → per-position mask → conv3x3-ReLU-conv3x3, position by position."""
    connector = MGDConnector(*channels, lambda_mgd=lambda_mgd)
    x = torch.randn(2, channels[0], 5, 7)
    expected = connector_reference(connector, x, seed=3)
    torch.manual_seed(3)
    torch.testing.assert_close(connector(x), expected)


@pytest.mark.parametrize('channels', [(4, 4), (3, 6)])
def test_matches_mmrazor_mgd_connector(channels):
    """Same state-dict keys and, with the same seed, the same output as mmrazor's."""
    from mmrazor.models.architectures.connectors import MGDConnector as RazorConnector
    ours = MGDConnector(*channels, lambda_mgd=0.65)
    theirs = RazorConnector(*channels, lambda_mgd=0.65)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, channels[0], 6, 6)
    torch.manual_seed(7)
    expected = theirs(x)
    torch.manual_seed(7)
    torch.testing.assert_close(ours(x), expected)


def test_mask_is_seeded_reproducible():
    """The same seed gives the same mask and output; another seed a different one."""
    connector = MGDConnector(4, 4)
    x = torch.randn(2, 4, 8, 8)
    torch.manual_seed(0)
    first = connector(x)
    torch.manual_seed(0)
    again = connector(x)
    torch.manual_seed(1)
    other = connector(x)
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.parametrize('lambda_mgd', [0.0, 0.45, 0.65])
def test_mask_drops_about_lambda_of_positions(lambda_mgd):
    """About a fraction λ of the positions is zero, one mask per image."""
    torch.manual_seed(0)
    mask = mgd_spatial_mask((16, 8, 32, 32), lambda_mgd)
    assert mask.shape == (16, 1, 32, 32)
    assert (mask == 0).float().mean().item() == pytest.approx(lambda_mgd, abs=0.01)


def test_mask_is_shared_by_channels():
    """A dropped position is zero in every channel, a kept one is untouched."""
    connector = MGDConnector(4, 4, lambda_mgd=0.5)
    connector.generation = nn.Identity()  # expose the masked feature
    x = torch.rand(2, 4, 6, 6) + 1.0       # no zeros of its own
    torch.manual_seed(0)
    out = connector(x)
    dropped = (out == 0).all(dim=1)
    assert dropped.any() and (~dropped).any()
    assert torch.equal(out.permute(0, 2, 3, 1)[~dropped], x.permute(0, 2, 3, 1)[~dropped])


def test_no_mask_in_eval_mode():
    """In eval mode the whole feature is generated: no randomness, no dropped positions."""
    connector = MGDConnector(3, 6, lambda_mgd=0.65).eval()
    x = torch.randn(2, 3, 5, 5)
    torch.manual_seed(0)
    first = connector(x)
    torch.manual_seed(1)
    assert torch.equal(first, connector(x))
    torch.testing.assert_close(first, connector.generation(connector.align(x)))


def test_gradient_reaches_student_and_connector():
    """The student feature and every connector parameter get a finite gradient."""
    connector = MGDConnector(3, 6)
    x = torch.randn(2, 3, 5, 5, requires_grad=True)
    connector(x).pow(2).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in connector.parameters())


@pytest.mark.parametrize('lambda_mgd', [1.0, -0.1, 1.5, float('nan')])
def test_lambda_outside_unit_interval_rejected(lambda_mgd):
    """λ must lie in [0, 1): the message names the argument and the value."""
    with pytest.raises(ValueError, match=r'MGDConnector: lambda_mgd .* \[0, 1\), got'):
        MGDConnector(4, 4, lambda_mgd=lambda_mgd)


def test_wrong_student_channels_rejected():
    """A map with other channels than student_channels names the expected shape."""
    with pytest.raises(ValueError, match=r'MGDConnector: expected a student map '
                                         r'\(N, 3, H, W\), got \(2, 4, 5, 5\)'):
        MGDConnector(3, 6)(torch.randn(2, 4, 5, 5))


def test_built_through_mmrazor_registry_as_a_connector():
    """`kd_mmdet.MGDConnector` builds from mmrazor's registry and is a BaseConnector."""
    from mmrazor.models.architectures.connectors.base_connector import BaseConnector
    from mmrazor.registry import MODELS
    connector = MODELS.build(dict(type='kd_mmdet.MGDConnector', student_channels=64,
                                  teacher_channels=128, lambda_mgd=0.45))
    assert isinstance(connector, MGDConnector) and isinstance(connector, BaseConnector)
    assert connector.lambda_mgd == 0.45
