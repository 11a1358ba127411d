import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from kd_mmdet import compat


def run_py(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=300)


def test_mmrazor_models_import_without_kd_mmdet():
    """A fresh interpreter imports mmrazor.models on torch 2 (startup hook, #615)."""
    out = run_py('import sys, mmrazor.models; from mmrazor.registry import MODELS; '
                 'assert "kd_mmdet" not in sys.modules; '
                 'print(MODELS.get("ChannelWiseDivergence").__name__)')
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'ChannelWiseDivergence' in out.stdout


def test_mmrazor_quantization_says_why_it_is_unavailable():
    """The stand-in raises a clear error naming the upstream issue, not a NaN later."""
    if int(torch.__version__.split('.')[0]) < 2:
        pytest.skip('stand-in only serves torch >= 2')
    from mmrazor.structures.quantization import BackendConfigs
    with pytest.raises(ImportError, match='mmrazor/issues/615'):
        BackendConfigs['native']


def test_local_rank_flag_rewritten_only_for_mmrazor_tools():
    argv = ['/x/site-packages/mmrazor/.mim/tools/train.py', 'cfg.py', '--local-rank=1']
    assert compat.fix_local_rank_argv(argv)[-1] == '--local_rank=1'
    ours = ['tools/train.py', 'cfg.py', '--local-rank=1']
    assert compat.fix_local_rank_argv(ours) == ours


def _mmengine_checkpoint(path):
    """A checkpoint with what mmengine 0.10.7's Runner writes besides tensors."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('kd_mmdet_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/lr', np.float64(0.01))
    hub.update_info('iter', 3)
    torch.save(dict(meta=dict(epoch=1, seed=np.int64(0), mean=np.zeros(3, np.float32)),
                    state_dict={'w': torch.ones(2)},
                    message_hub=hub.state_dict()), path)


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    """mmengine#1655: weights_only=True loads a Runner checkpoint once allow-listed."""
    path = tmp_path / 'ckpt.pth'
    _mmengine_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    assert ckpt['message_hub']['log_scalars']['train/loss'].current() == 1.5


def test_mmengine_load_checkpoint_uses_safe_path(tmp_path):
    """mmengine's own loader (used by load_from, resume, teacher_ckpt) succeeds."""
    from mmengine.runner import CheckpointLoader
    path = tmp_path / 'ckpt.pth'
    _mmengine_checkpoint(path)
    assert 'message_hub' in CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_arbitrary_pickle_still_refused(tmp_path):
    """Allow-listing is narrow: a checkpoint that would run code is rejected."""
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)


def test_prepare_launcher_is_a_no_op_without_launcher():
    cfg = Config(dict(model=dict(type='X')))
    compat.prepare_launcher(cfg, 'none')
    assert 'model_wrapper_cfg' not in cfg and 'env_cfg' not in cfg


def test_prepare_launcher_on_cpu_uses_gloo_and_no_device_ids():
    """Without CUDA: a gloo group is initialised and DDP gets no device ids."""
    code = (
        'import torch, torch.distributed as dist\n'
        'from mmengine.config import Config\n'
        'from kd_mmdet import compat\n'
        'cfg = Config(dict(model_wrapper_cfg=dict(type="MMDistributedDataParallel")))\n'
        'compat.prepare_launcher(cfg, "pytorch")\n'
        'if not torch.cuda.is_available():\n'
        '    assert dist.get_backend() == "gloo", dist.get_backend()\n'
        '    assert cfg.model_wrapper_cfg.device_ids is None\n'
        '    assert cfg.env_cfg.dist_cfg.backend == "gloo"\n'
        'print("ok")\n')
    out = run_py(code, RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                 MASTER_PORT='29531')
    assert out.returncode == 0 and 'ok' in out.stdout, out.stderr[-2000:]


def test_mim_finds_the_installed_configs_and_tools():
    """`mim train kd_mmdet <config>` resolves configs/ and tools/ inside the package."""
    from mim.utils import get_installed_path
    root = get_installed_path('kd_mmdet')
    assert os.path.isfile(os.path.join(root, '.mim', 'tools', 'train.py'))
    assert os.path.isfile(os.path.join(root, '.mim', 'configs', 'cwd',
                                       'cwd_fpn_gfl_digits.py'))


class _GetattrCall:
    """Reads HistoryBuffer.__init__ through getattr, then tries to call it."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr(HistoryBuffer, '__init__'), (None,))


def test_getattr_results_cannot_be_called(tmp_path):
    """Allowing getattr lets the loader read attributes, never call what it read."""
    path = tmp_path / 'evil2.pth'
    torch.save({'x': _GetattrCall()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_runner_loader_refuses_arbitrary_pickle_naming_file_and_object(tmp_path):
    """load_from / resume / teacher_ckpt path: refused, naming the file and os.system."""
    from mmengine.runner import CheckpointLoader
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'payload': _Evil()}, path)
    with pytest.raises(compat.UnsafeCheckpointError,
                       match=r'refused to load .*evil\.pth: it pickles the object '
                             r'(posix|nt)\.system'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


def test_runner_loader_is_weights_only_even_when_torch_default_is_off(tmp_path,
                                                                      monkeypatch):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD cannot turn the check off for our loader."""
    from mmengine.runner import CheckpointLoader
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path = tmp_path / 'evil.pth'
    torch.save({'payload': _Evil()}, path)
    with pytest.raises(compat.UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


def test_teacher_ckpt_with_arbitrary_pickle_fails_at_build(tmp_path):
    """A crafted teacher checkpoint stops the build before any weight is used."""
    from kd_mmdet.models.algorithms import load_teacher_checkpoint
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': {'weight': torch.ones(1, 1)}, 'x': _Evil()}, path)
    with pytest.raises(compat.UnsafeCheckpointError,
                       match=r'SingleTeacherDistill: teacher_ckpt: refused to load '
                             r'.*teacher\.pth'):
        load_teacher_checkpoint(torch.nn.Linear(1, 1), str(path))
