"""kd_mmdet.models.utils.precision: autocast contexts and fp32 records."""
from collections import namedtuple

import pytest
import torch

from kd_mmdet.models.utils import precision
from kd_mmdet.models.utils.precision import (autocast_for, channels_last, check_precision,
                                             cpu_has_bf16, fast_precision, to_fp32,
                                             to_loss_format)


def test_to_fp32_casts_low_precision_in_nested_containers():
    """bf16/fp16 tensors become fp32 inside tuples, lists, dicts and namedtuples; other
    dtypes and non-tensors are untouched."""
    Pair = namedtuple('Pair', 'a b')
    low = torch.randn(3).to(torch.bfloat16)
    value = (low, [low.half(), {'k': low}], Pair(low, 'x'), torch.arange(3), 1.5)
    out = to_fp32(value)
    assert out[0].dtype == torch.float32 and torch.equal(out[0], low.float())
    assert out[1][0].dtype == torch.float32 and out[1][1]['k'].dtype == torch.float32
    assert isinstance(out[2], Pair) and out[2].a.dtype == torch.float32 and out[2].b == 'x'
    assert out[3].dtype == torch.int64 and out[4] == 1.5


def test_to_loss_format_makes_nested_records_fp32_and_contiguous():
    """A channels_last bf16 record inside containers comes out fp32 and contiguous with
    the same values; an fp32 contiguous tensor is the same object; ints keep their dtype."""
    Pair = namedtuple('Pair', 'a b')
    x = torch.randn(2, 3, 4, 5)
    low = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    assert not low.is_contiguous()
    out = to_loss_format({'r': [Pair(low, 'x')], 'plain': x, 'i': torch.arange(3)})
    rec = out['r'][0].a
    assert rec.dtype == torch.float32 and rec.is_contiguous()
    assert torch.equal(rec, low.float()) and out['r'][0].b == 'x'
    assert out['plain'] is x and out['i'].dtype == torch.int64
    rec.view(2, -1)  # what mmrazor's ChannelWiseDivergence does to its inputs


def test_autocast_for_each_precision():
    """bf16 turns CPU autocast on; fp32 turns an outer autocast off; None keeps it."""
    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    with autocast_for('T', 'teacher_precision', 'bf16', x.device):
        assert layer(x).dtype == torch.bfloat16
    with torch.autocast('cpu', dtype=torch.bfloat16):
        with autocast_for('T', 'teacher_precision', 'fp32', x.device):
            assert layer(x).dtype == torch.float32
        with autocast_for('T', 'teacher_precision', None, x.device):
            assert layer(x).dtype == torch.bfloat16


def test_fp16_refused_on_cpu_input():
    """fp16 autocast on a CPU input raises, naming the component and the argument."""
    with pytest.raises(ValueError, match=r"Owner: teacher_precision='fp16' runs on CUDA"):
        autocast_for('Owner', 'teacher_precision', 'fp16', torch.device('cpu'))


def test_check_precision_names_bad_values():
    """An unknown precision names the allowed ones; fp16 without CUDA fails at build."""
    with pytest.raises(ValueError, match=r"Owner: teacher_precision must be one of "
                                         r"\('fp32', 'bf16', 'fp16', 'auto'\).*'half'"):
        check_precision('Owner', 'teacher_precision', 'half')
    for ok in (None, 'fp32', 'bf16'):
        check_precision('Owner', 'teacher_precision', ok)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='needs a CUDA device'):
            check_precision('Owner', 'teacher_precision', 'fp16')


def test_channels_last_changes_strides_not_values():
    """4-d tensors get channels_last strides and equal values; others pass through."""
    x = torch.randn(2, 3, 5, 7)
    y = channels_last(x)
    assert y.is_contiguous(memory_format=torch.channels_last) and torch.equal(x, y)
    v = torch.randn(3, 4)
    assert channels_last(v) is v


def test_cpu_bf16_flags_read_from_cpuinfo(tmp_path):
    """Native bf16 is told by avx512_bf16 or amx_bf16 among the flags; a missing file
    means no."""
    info = tmp_path / 'cpuinfo'
    info.write_text('flags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n')
    assert cpu_has_bf16(str(info))
    info.write_text('flags\t\t: fpu sse avx512f avx512_vnni\n')
    assert not cpu_has_bf16(str(info))
    assert not cpu_has_bf16(str(tmp_path / 'none'))


def test_auto_precision_follows_the_cpu(monkeypatch):
    """'auto' is bf16 autocast on a CPU with native bf16 and autocast off without it."""
    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    for native, dtype in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(precision, 'cpu_has_bf16', lambda: native)
        assert fast_precision(x.device) == ('bf16' if native else None)
        with torch.autocast('cpu', dtype=torch.bfloat16):  # an outer AMP step
            with autocast_for('T', 'teacher_precision', 'auto', x.device):
                assert layer(x).dtype == dtype
