"""Low-precision teacher forwards: autocast, channels_last, fp32 records.

A frozen teacher needs no fp32: its forward is inference, and inference in bf16 or fp16
is routine. On the toy GFL ResNet-50 teacher (8 × 128 px, 2 threads, a CPU with
AVX512-BF16) ``extract_feat`` takes 185 ms in fp32, 95 ms under bf16 autocast and 76 ms
with bf16 and channels_last. mmrazor runs the teacher in fp32 always, and its fp16
training breaks where an fp32 module meets fp16 student tensors (open-mmlab/mmrazor#190).

What these helpers guarantee, for every kd_mmdet algorithm that runs a teacher:

- the teacher's forward runs under ``torch.autocast`` of the *input's* device type
  (nothing assumes CPU or CUDA), or with autocast explicitly off for ``'fp32'``;
- the teacher's weights are never cast: autocast casts per operation, so checkpoints and
  state dicts are unchanged; channels_last changes strides, not values;
- every tensor the teacher recorders hold reaches the losses in fp32
  (:func:`records_to_fp32`), so a loss never mixes a bf16 teacher with an fp32 student.
"""
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, ContextManager, Iterator, Optional

import torch
from torch import Tensor

#: ``teacher_precision`` values and their autocast dtypes (None: follow the step;
#: ``'auto'``: :func:`fast_precision` of the input's device).
PRECISIONS = {None: None, 'fp32': torch.float32, 'bf16': torch.bfloat16,
              'fp16': torch.float16, 'auto': None}
_LOW = (torch.float16, torch.bfloat16)
#: CPU flags (Linux ``/proc/cpuinfo``) of native bf16 arithmetic; without them CPU bf16
#: is emulated and slower than fp32.
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


def cpu_has_bf16(cpuinfo: str = '/proc/cpuinfo') -> bool:
    """Whether this CPU computes bf16 natively (False where it cannot be told)."""
    try:
        with open(cpuinfo) as f:
            flags = set(f.read().split())
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def fast_precision(device: torch.device) -> Optional[str]:
    """The low precision ``device`` runs fastest: ``'bf16'`` on CUDA devices that support
    it and on CPUs with native bf16, ``'fp16'`` on other CUDA devices, None (fp32) on
    other CPUs and device types."""
    device = torch.device(device)
    if device.type == 'cuda':
        return 'bf16' if torch.cuda.is_bf16_supported() else 'fp16'
    if device.type == 'cpu':
        return 'bf16' if cpu_has_bf16() else None
    return None


def check_precision(owner: str, arg: str, precision: Optional[str]) -> None:
    """Raise ``ValueError`` unless ``precision`` is a known value; refuse fp16 on a
    machine without CUDA before training starts (CPU fp16 kernels are slow or missing,
    and PyTorch's CPU autocast is meant for bf16)."""
    if precision not in PRECISIONS:
        raise ValueError(f'{owner}: {arg} must be one of '
                         f'{tuple(k for k in PRECISIONS if k)} or None, got {precision!r}')
    if precision == 'fp16' and not torch.cuda.is_available():
        raise ValueError(f'{owner}: {arg}=\'fp16\' needs a CUDA device and none is '
                         'available; use \'bf16\' on CPUs')


def autocast_for(owner: str, arg: str, precision: Optional[str],
                 device: torch.device) -> ContextManager:
    """The autocast context of ``precision`` on ``device``'s type.

    ``None`` leaves the surrounding context as it is (e.g. an AMP optim wrapper's
    autocast); ``'fp32'`` turns autocast off; ``'bf16'``/``'fp16'`` turn it on;
    ``'auto'`` is :func:`fast_precision` of the device (fp32 where there is none).

    Raises:
        ValueError: ``'fp16'`` on a CPU tensor.
    """
    if precision == 'auto':
        precision = fast_precision(device) or 'fp32'
    if precision is None:
        return nullcontext()
    device_type = torch.device(device).type
    if precision == 'fp16' and device_type == 'cpu':
        raise ValueError(f'{owner}: {arg}=\'fp16\' runs on CUDA only, but the input is on '
                         'the CPU; use \'bf16\'')
    if precision == 'fp32':
        return torch.autocast(device_type, enabled=False)
    return torch.autocast(device_type, dtype=PRECISIONS[precision])


def map_tensors(fn: Callable[[Tensor], Tensor], value: Any) -> Any:
    """``value`` with ``fn`` applied to every tensor in it, through nested tuples,
    namedtuples, lists and dicts (their types kept); anything else as it is."""
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        items = [map_tensors(fn, v) for v in value]
        if hasattr(value, '_fields'):  # namedtuple
            return type(value)(*items)
        return type(value)(items)
    if isinstance(value, dict):
        return type(value)((k, map_tensors(fn, v)) for k, v in value.items())
    return value


def _fp32(t: Tensor) -> Tensor:
    return t.float() if t.dtype in _LOW else t


def _loss_format(t: Tensor) -> Tensor:
    dtype = torch.float32 if t.dtype in _LOW else t.dtype
    return t.to(dtype=dtype, memory_format=torch.contiguous_format)


def to_fp32(value: Any) -> Any:
    """``value`` with every fp16/bf16 tensor in it (nested tuples, lists, dicts) as fp32."""
    return map_tensors(_fp32, value)


def to_loss_format(value: Any) -> Any:
    """``value`` with every tensor in it fp32 (if it was fp16/bf16) and in the standard
    (contiguous) memory format: what losses written for plain tensors expect. A
    channels_last teacher's 4-d records are channels_last, and losses that flatten with
    ``.view`` — mmrazor's ``ChannelWiseDivergence``, ``preds.view(-1, W * H)`` — raise
    on them. One ``.to`` does the cast and the layout together; a tensor already fp32 and
    contiguous is returned as it is."""
    return map_tensors(_loss_format, value)


def records_to_fp32(manager) -> None:
    """Cast, in place, what every recorder of an mmrazor ``RecorderManager`` holds to fp32
    in the standard memory format (``to_loss_format``)."""
    for recorder in manager.recorders.values():
        recorder.data_buffer[:] = [to_loss_format(v) for v in recorder.data_buffer]


def channels_last(x: Tensor) -> Tensor:
    """A 4-d tensor in channels_last memory format; other tensors as they are."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


@contextmanager
def teacher_forward_context(owner: str, precision: Optional[str], use_channels_last: bool,
                            manager, inputs: Tensor) -> Iterator[Tensor]:
    """Run a frozen teacher's forward: records on, no_grad, the precision's autocast.

    Yields the input to give the teacher (channels_last when asked); on exit the
    recorded tensors are cast to fp32 in the standard memory format.
    """
    with manager, torch.no_grad(), autocast_for(owner, 'teacher_precision', precision,
                                                inputs.device):
        yield channels_last(inputs) if use_channels_last else inputs
    records_to_fp32(manager)
