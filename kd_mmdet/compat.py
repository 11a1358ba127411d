"""Fixes the OpenMMLab stack needs on current torch, each with its upstream thread.

Nothing here edits another package's installed files:

1. ``import mmrazor.models`` fails on torch >= 2 ("`torch>=1.13` is not installed
   properly") because mmrazor 1.0.0 builds its *quantization* backend configs at import
   time from torch-1.13 private APIs that torch 2 renamed or removed
   (open-mmlab/mmrazor#615, #632). Distillation never uses them. An import hook serves a
   stand-in for ``mmrazor.structures.quantization.backend_config`` whose every entry
   raises a clear error if quantization is attempted. The hook is installed by
   ``import kd_mmdet`` and, for processes that import mmrazor before any config is read
   (``mim train mmrazor ...``), at interpreter start by ``kd_mmdet_startup.pth``.
2. torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 checkpoints
   pickle a MessageHub (``HistoryBuffer`` and numpy arrays), so ``load_from``,
   ``resume`` and ``teacher_ckpt`` fail (open-mmlab/mmengine#1655). We allow-list exactly
   the types such checkpoints contain with ``torch.serialization.add_safe_globals``;
   loading stays safe: any other pickled object is still refused. mmengine's local
   loader relies on torch's default (which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` turns
   off) and passes on torch's advice to retry with ``weights_only=False``; ours asks for
   ``weights_only=True`` explicitly and refuses with :class:`UnsafeCheckpointError`,
   naming the file and the object.
3. torch >= 2 launchers pass ``--local-rank``; mmrazor's ``tools/train.py`` accepts only
   ``--local_rank`` (the ``mim train mmrazor --launcher pytorch`` failure). The startup
   hook rewrites the flag for mmrazor's own tools; ours accept both spellings.
4. CPU-only DDP through mmengine 0.10.7: ``_init_dist_pytorch`` calls
   ``torch.cuda.set_device`` unconditionally and the default DDP wrapper passes
   ``device_ids=[LOCAL_RANK]``. :func:`prepare_launcher` initialises a gloo process group
   itself when CUDA is absent (mmengine then skips its own init) and wraps the model
   without device ids. On CUDA machines nothing changes.
"""
import importlib.abc
import importlib.util
import os
import pickle
import re
import sys
import types
from typing import Any, List

MMRAZOR_QUANT_BACKEND = 'mmrazor.structures.quantization.backend_config'
MMRAZOR_ISSUE = 'https://github.com/open-mmlab/mmrazor/issues/615'
MMENGINE_LOAD_ISSUE = 'https://github.com/open-mmlab/mmengine/issues/1655'


def _torch_major() -> int:
    import torch
    return int(torch.__version__.split('.')[0])


# --- 1. mmrazor on torch 2 ---------------------------------------------------------
class _QuantizationUnavailable(dict):
    """Stands for mmrazor's ``BackendConfigs``: empty, and says why on any lookup."""

    def __missing__(self, key: str) -> Any:
        raise ImportError(
            f'mmrazor quantization backend {key!r} is unavailable: mmrazor 1.0.0 builds '
            f'it from torch-1.13 private APIs that torch 2 removed ({MMRAZOR_ISSUE}). '
            'kd_mmdet supports distillation only.')


def _unavailable(name: str):
    def fn(*args, **kwargs):
        return _QuantizationUnavailable()[name]
    fn.__name__ = name
    return fn


class _MMRazorQuantizationStub(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the stand-in module in place of mmrazor's quantization backend configs."""

    def find_spec(self, fullname, path, target=None):
        if fullname != MMRAZOR_QUANT_BACKEND or _torch_major() < 2:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> types.ModuleType:
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        names = [f'get_{backend}_backend_config{suffix}'
                 for backend in ('academic', 'native', 'openvino', 'tensorrt')
                 for suffix in ('', '_dict')]
        for name in names:
            setattr(module, name, _unavailable(name))
        module.BackendConfigs = _QuantizationUnavailable()
        module.__all__ = ['BackendConfigs'] + names
        module.__doc__ = f'Stand-in installed by kd_mmdet.compat ({MMRAZOR_ISSUE}).'


def install_mmrazor_import_fix() -> None:
    """Make ``import mmrazor.models`` work on torch >= 2 (idempotent)."""
    # By name: the startup hook loads this file under its own module object.
    if not any(type(f).__name__ == _MMRazorQuantizationStub.__name__
               for f in sys.meta_path):
        sys.meta_path.insert(0, _MMRazorQuantizationStub())


# --- 2. safe checkpoint loading ----------------------------------------------------
def checkpoint_safe_globals() -> List[Any]:
    """The non-tensor globals an mmengine 0.10.7 checkpoint pickles (meta, message_hub).

    ``getattr`` is among them: ``HistoryBuffer.__getstate__`` stores its statistics
    methods, pickled as ``getattr(HistoryBuffer, 'mean')``. Allowing it lets the loader
    read attributes of allow-listed objects; it cannot call what it reads, because the
    weights-only unpickler calls only allow-listed globals, and modules such as ``os``
    and ``sys`` stay block-listed whatever is allowed.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    dtype_classes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')]
    return [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
            multiarray.scalar, getattr, *dtype_classes]


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read mmengine checkpoints (idempotent)."""
    import torch
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(checkpoint_safe_globals())


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles an object outside the allow-list; nothing was loaded."""


def load_local_checkpoint(filename: str, map_location=None) -> Any:
    """mmengine's local checkpoint loader, always ``weights_only=True``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the file pickles an object that is neither a tensor nor
            one of :func:`checkpoint_safe_globals`; unpickling it could run code.
    """
    import torch
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r'GLOBAL ([\w.]+)', str(e))
        what = f'the object {found.group(1)}' if found else 'an object'
        raise UnsafeCheckpointError(
            f'refused to load {filename}: it pickles {what}, which is neither a tensor '
            'nor one of the types mmengine checkpoints hold '
            '(kd_mmdet.compat.checkpoint_safe_globals); unpickling it could run '
            'arbitrary code. Re-save the weights of a trusted file as plain tensors, '
            'e.g. torch.save({"state_dict": state_dict}, path).') from None


def install_safe_checkpoint_loader() -> None:
    """Serve local paths of ``CheckpointLoader`` (``load_from``, ``resume``,
    ``teacher_ckpt``, the tools) with :func:`load_local_checkpoint` (idempotent)."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)


# --- 3. --local-rank for mmrazor's tools ---------------------------------------------
def fix_local_rank_argv(argv: List[str]) -> List[str]:
    """Rewrite ``--local-rank`` as ``--local_rank`` when argv[0] is an mmrazor tool."""
    script = argv[0].replace(os.sep, '/') if argv else ''
    if '/mmrazor/' not in script or '/tools/' not in script:
        return argv
    return [a.replace('--local-rank', '--local_rank', 1) if a.startswith('--local-rank')
            else a for a in argv]


def startup() -> None:
    """Run at interpreter start by ``kd_mmdet_startup.pth``: cheap, imports no torch."""
    install_mmrazor_import_fix()
    sys.argv[:] = fix_local_rank_argv(list(getattr(sys, 'argv', [])))


# --- 4. distributed launch without CUDA ----------------------------------------------
def prepare_launcher(cfg, launcher: str) -> None:
    """Adapt ``cfg`` to ``launcher`` on machines without CUDA (no-op elsewhere).

    mmengine initialises NCCL and pins a CUDA device per rank; without a GPU we create
    the gloo process group here (mmengine then skips its own initialisation) and let
    DDP wrap CPU modules, which refuse ``device_ids``.
    """
    import torch
    if launcher != 'pytorch' or torch.cuda.is_available():
        return
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.merge_from_dict({'env_cfg.dist_cfg.backend': 'gloo'})
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper.update(device_ids=None, broadcast_buffers=False,
                   find_unused_parameters=True)
    cfg.model_wrapper_cfg = wrapper


def apply_all() -> None:
    """Everything ``import kd_mmdet`` applies."""
    install_mmrazor_import_fix()
    allow_mmengine_checkpoints()
    install_safe_checkpoint_loader()
