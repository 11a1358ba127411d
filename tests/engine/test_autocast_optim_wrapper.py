"""kd_mmdet.AutocastOptimWrapper: bf16 autocast for a whole training step, no scaler."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from torch import nn


def build(model, **kwargs):
    cfg = dict(type='kd_mmdet.AutocastOptimWrapper',
               optimizer=dict(type='SGD', lr=0.1), **kwargs)
    return build_optim_wrapper(model, cfg)


def test_forward_runs_in_bf16_and_weights_stay_fp32():
    """Inside optim_context a Linear computes in bf16; its weights and grads stay fp32
    and the step changes them."""
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    wrapper = build(model, device_type='cpu')
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(5, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).mean())
    assert model.weight.dtype == torch.float32
    assert not torch.equal(model.weight, before)


def test_outside_the_context_nothing_is_cast():
    """Autocast is scoped to optim_context."""
    model = nn.Linear(4, 3)
    build(model, device_type='cpu')
    assert model(torch.randn(2, 4)).dtype == torch.float32


def test_clip_grad_is_kept():
    """The base wrapper's gradient clipping still applies."""
    torch.manual_seed(0)
    model = nn.Linear(4, 1, bias=False)
    wrapper = build(model, device_type='cpu', clip_grad=dict(max_norm=1e-3))
    with wrapper.optim_context(model):
        loss = (model(torch.randn(8, 4)) * 1e3).float().sum()
    before = model.weight.detach().clone()
    wrapper.update_params(loss)
    assert (model.weight - before).norm() <= 0.1 * 1e-3 + 1e-6  # lr × max_norm


def test_fp16_points_to_mmengine_amp():
    """fp16 without a loss scaler is refused with the way to get it."""
    with pytest.raises(ValueError, match="AutocastOptimWrapper: dtype must be one of.*"
                                         "AmpOptimWrapper"):
        build(nn.Linear(2, 2), dtype='float16')
