import pytest
import torch

from kd_mmdet.models.backbones import CifarResNet


@pytest.mark.parametrize('depth,blocks', [(8, 1), (20, 3), (32, 5)])
def test_depth_is_six_n_plus_two(depth, blocks):
    """Three stages of (depth - 2) / 6 BasicBlocks each."""
    net = CifarResNet(depth)
    assert [len(getattr(net, name)) for name in net.res_layers] == [blocks] * 3
    convs = sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)
                for m in net.modules())
    assert convs + 1 == depth  # 3x3 convs + the final classifier layer


def test_resnet8x4_shapes():
    """ResNet8x4: stem 32, stages 64/128/256 at 32/16/8 px for a 32 px input."""
    net = CifarResNet(8, stem_channels=32, base_channels=64, out_indices=(0, 1, 2))
    outs = net(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 64, 32, 32), (2, 128, 16, 16),
                                              (2, 256, 8, 8)]
    assert net.conv1.out_channels == 32


def test_parameter_count_of_resnet8x4_and_32x4():
    """Parameter counts of the standard pair (CRD's table: 1.23 M and 7.43 M, with fc)."""
    for depth, millions in ((8, 1.23), (32, 7.43)):
        net = CifarResNet(depth, stem_channels=32, base_channels=64)
        n = sum(p.numel() for p in net.parameters()) + 256 * 100 + 100  # + the fc layer
        assert n / 1e6 == pytest.approx(millions, abs=0.01)


def test_bad_depth_is_named():
    """A depth that is not 6n + 2 fails with the allowed values."""
    with pytest.raises(ValueError, match='CifarResNet: depth must be one of'):
        CifarResNet(18)
