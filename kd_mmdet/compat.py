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
4. CPU-only DDP through mmengine 0.10.7: ``_init_dist_pytorch`` and ``_init_dist_slurm``
   call ``torch.cuda.set_device`` unconditionally (``mmengine/dist/utils.py``,
   https://github.com/open-mmlab/mmengine/blob/v0.10.7/mmengine/dist/utils.py) and the
   default DDP wrapper passes ``device_ids=[LOCAL_RANK]``. When CUDA is absent,
   :func:`prepare_launcher` initialises the gloo process group before the Runner does
   (mmengine then skips its own init): for ``pytorch`` directly, for ``slurm`` through
   mmengine's own Slurm initialisation (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST,
   SLURM_LOCALID, ``scontrol`` for the master address) with ``torch.cuda.set_device``
   skipped; and it wraps the model without device ids. On CUDA machines nothing changes.
5. Mixed precision: under autocast mmdet's dense heads hand mmcv's ``nms`` fp32 boxes
   with bf16/fp16 scores, and mmcv 2.1.0's kernel refuses mixed dtypes ("expected scalar
   type Float but found BFloat16"; its CPU kernel has no bf16/fp16 at all). mmcv 1's
   ``@force_fp32`` on the heads, which kept NMS in fp32 under fp16 training, is gone in
   mmcv 2 / mmdet 3. :func:`install_nms_dtype_fix` runs NMS in fp32 when the two dtypes
   differ or a CPU input is half precision; same-dtype fp32 (and CUDA fp16) calls are
   unchanged. Which boxes are kept is a comparison of IoUs and scores, so fp32 loses
   nothing.
6. bf16 autocast on CPUs: torch 2.14.1's oneDNN convolution backward returns NaN
   gradients, at random, for a 1×1 input map with stride > 1 (measured: a 3×3, stride 2,
   padding 1 conv of 256 channels gave non-finite gradients in 245 of 1,000 calls with
   2 threads, 2 of 400 with 1; never with fp32 inputs). FPNs meet exactly that on small
   images: P6/P7 of a 64–128 px input are 1×1. :func:`install_tiny_conv_fp32_fix` runs
   such convolutions (only under CPU autocast, only when the input's height or width is
   1 and a stride exceeds 1) in fp32; every other convolution is untouched.
"""
import contextlib
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
@contextlib.contextmanager
def _cuda_set_device_skipped():
    """``torch.cuda.set_device`` does nothing inside (only entered when CUDA is absent)."""
    import torch
    original = torch.cuda.set_device
    torch.cuda.set_device = lambda device: None
    try:
        yield
    finally:
        torch.cuda.set_device = original


def prepare_launcher(cfg, launcher: str) -> None:
    """Adapt ``cfg`` to ``launcher`` on machines without CUDA (no-op elsewhere).

    mmengine initialises NCCL and pins a CUDA device per rank; without a GPU we create
    the gloo process group here (mmengine then skips its own initialisation) and let
    DDP wrap CPU modules, which refuse ``device_ids``. The Slurm launcher still goes
    through mmengine's ``init_dist('slurm')``, which reads the task's SLURM_* variables
    and sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT as on a GPU cluster.
    """
    import torch
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available():
        return
    import torch.distributed as dist
    if not dist.is_initialized():
        if launcher == 'pytorch':
            dist.init_process_group(backend='gloo')
        else:
            from mmengine.dist import init_dist
            dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg') or {})
            dist_cfg['backend'] = 'gloo'
            with _cuda_set_device_skipped():
                init_dist('slurm', **dist_cfg)
    cfg.merge_from_dict({'env_cfg.dist_cfg.backend': 'gloo'})
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper.update(device_ids=None, broadcast_buffers=False,
                   find_unused_parameters=True)
    cfg.model_wrapper_cfg = wrapper


# --- 5. NMS under autocast ------------------------------------------------------------
def install_nms_dtype_fix() -> None:
    """Make ``mmcv.ops.NMSop`` (behind ``nms`` and ``batched_nms``) cast mixed or CPU
    half-precision inputs to fp32 (see the module docstring). Idempotent."""
    import torch
    op = importlib.import_module('mmcv.ops.nms').NMSop  # the module, not mmcv.ops.nms()
    if getattr(op, '_kd_mmdet_fp32', False):
        return
    original = op.apply
    low = (torch.float16, torch.bfloat16)

    def apply(bboxes, scores, *args):
        if bboxes.dtype != scores.dtype or (bboxes.device.type == 'cpu'
                                            and bboxes.dtype in low):
            bboxes, scores = bboxes.float(), scores.float()
        return original(bboxes, scores, *args)

    op.apply = staticmethod(apply)
    op._kd_mmdet_fp32 = True


# --- 6. bf16 convolutions of 1×1 maps on CPUs ----------------------------------------
def install_tiny_conv_fp32_fix() -> None:
    """Run CPU-autocast convolutions of a 1-pixel-high or -wide input with stride > 1 in
    fp32 (see the module docstring). Idempotent."""
    import torch
    from torch import nn
    if getattr(nn.Conv2d, '_kd_mmdet_tiny_fp32', False):
        return
    original = nn.Conv2d._conv_forward

    def _conv_forward(self, input, weight, bias):
        if (input.device.type == 'cpu' and min(input.shape[-2:]) == 1
                and max(self.stride) > 1 and torch.is_autocast_enabled('cpu')):
            with torch.autocast('cpu', enabled=False):
                return original(self, input.float(), weight.float(),
                                None if bias is None else bias.float())
        return original(self, input, weight, bias)

    nn.Conv2d._conv_forward = _conv_forward
    nn.Conv2d._kd_mmdet_tiny_fp32 = True


def apply_all() -> None:
    """Everything ``import kd_mmdet`` applies."""
    install_mmrazor_import_fix()
    allow_mmengine_checkpoints()
    install_safe_checkpoint_loader()
    install_nms_dtype_fix()
    install_tiny_conv_fp32_fix()
