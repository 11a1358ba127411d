"""Mixed-precision training without a loss scaler, on any device: bf16 on CPUs.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts a CUDA, NPU or MLU device, so a CPU cannot
train under autocast through the Runner at all. bf16 has fp32's exponent range, so it
needs no loss scaling: the wrapper only has to run the forward under
``torch.autocast(device_type, dtype=torch.bfloat16)``. That is what this wrapper adds to
mmengine's ``OptimWrapper`` (gradient clipping, accumulation and everything else are the
base class's). On GPUs mmengine's own ``AmpOptimWrapper`` (fp16 with dynamic loss scaling,
or ``dtype='bfloat16'``) is the usual choice; this wrapper works there too for bf16.

Config::

    optim_wrapper = dict(type='kd_mmdet.AutocastOptimWrapper', dtype='bfloat16',
                         optimizer=dict(type='AdamW', lr=1e-3))
"""
from contextlib import contextmanager
from typing import Optional

import torch
from mmengine.device import get_device
from mmengine.optim import OptimWrapper
from torch import nn

from kd_mmdet.registry import OPTIM_WRAPPERS

_DTYPES = {'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16}


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs the forward under bf16 autocast.

    Args:
        dtype: ``'bfloat16'`` (``'bf16'``). fp16 needs a loss scaler: use mmengine's
            ``AmpOptimWrapper`` on a GPU.
        device_type: the autocast device type; by default the device mmengine trains on
            (``mmengine.device.get_device()``: ``'cuda'`` where available, else ``'cpu'``).
        **kwargs: everything mmengine's ``OptimWrapper`` takes (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, dtype: str = 'bfloat16', device_type: Optional[str] = None,
                 **kwargs) -> None:
        if dtype not in _DTYPES:
            hint = (' — fp16 needs loss scaling: use mmengine\'s AmpOptimWrapper on a GPU'
                    if dtype in ('float16', 'fp16', 'half') else '')
            raise ValueError(f'AutocastOptimWrapper: dtype must be one of '
                             f'{tuple(_DTYPES)}, got {dtype!r}{hint}')
        super().__init__(**kwargs)
        self.cast_dtype = _DTYPES[dtype]
        self.device_type = device_type or get_device()

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The base class's context (gradient sync under accumulation) plus autocast."""
        with super().optim_context(model), torch.autocast(self.device_type,
                                                          dtype=self.cast_dtype):
            yield
