"""kd_mmdet.compat fix 6: bf16 convolutions of 1×1 maps with stride > 1 on CPUs."""
import torch
from torch import nn


def test_bf16_conv_of_a_1x1_map_has_finite_gradients():
    """The shape that made oneDNN's bf16 backward return NaN at random (P6 → P7 of a
    small image) gives finite gradients in every one of 100 calls, equal to fp32's."""
    torch.manual_seed(0)
    conv = nn.Conv2d(256, 64, 3, stride=2, padding=1)
    for _ in range(100):
        x = torch.relu(torch.randn(2, 256, 1, 1)).bfloat16().requires_grad_()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            y = conv(x)
        gw, gx = torch.autograd.grad((y.float() ** 2).sum(), [conv.weight, x])
        assert torch.isfinite(gw).all() and torch.isfinite(gx).all()
    ref = nn.functional.conv2d(x.detach().float(), conv.weight, conv.bias, 2, 1)
    torch.testing.assert_close(y.float(), ref)


def test_other_convolutions_keep_autocast():
    """Larger maps, and 1×1 maps at stride 1, still compute in bf16."""
    conv = nn.Conv2d(8, 8, 3, stride=2, padding=1)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert conv(torch.randn(1, 8, 4, 4)).dtype == torch.bfloat16
        assert nn.Conv2d(8, 8, 3, padding=1)(torch.randn(1, 8, 1, 1)).dtype == torch.bfloat16
        assert conv(torch.randn(1, 8, 1, 1)).dtype == torch.float32
