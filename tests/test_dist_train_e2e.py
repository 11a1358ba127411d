"""Two-process CPU distillation (torchrun, gloo) through tools/dist_train.sh and through
`mim train kd_mmdet ... --launcher pytorch --gpus 2` (mim's --gpus is only the number of
processes: it starts torch.distributed.launch and never asks for CUDA).

A hook written for the test dumps every rank's parameters and per-iteration losses at
the end; the ranks must hold identical parameters (gradients all-reduced), have trained
on different images, log finite losses, and rank 0 must have saved what it holds.
"""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from tests.test_resume_e2e import teacher_ckpt  # noqa: F401  (fixture)
from tests.test_train_e2e import REPO, data_options

pytestmark = pytest.mark.slow

DUMP_HOOK = '''
import os
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankDumpHook(Hook):
    """Every rank writes rank<r>.pth: parameters, per-iteration losses, process group."""

    def __init__(self, out_dir):
        self.out_dir, self.losses = out_dir, []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items() if 'loss' in k})

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(dict(params={k: v.detach().clone() for k, v in model.named_parameters()},
                        losses=self.losses, world_size=dist.get_world_size(),
                        backend=dist.get_backend(), wrapper=type(runner.model).__name__),
                   os.path.join(self.out_dir, f'rank{dist.get_rank()}.pth'))
'''
SHORT = ['train_dataloader.batch_size=2', 'train_dataloader.dataset.indices=8',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'train_cfg.max_epochs=1', 'train_cfg.val_begin=100',
         'default_hooks.logger.interval=1', 'randomness.seed=0']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def dump_config(tmp_path):
    """The toy CWD config plus the dump hook; returns (config path, dump folder)."""
    (tmp_path / 'rank_dump.py').write_text(DUMP_HOOK)
    out = tmp_path / 'dump'
    out.mkdir()
    config = tmp_path / 'cwd_dump.py'
    config.write_text(
        f"_base_ = ['{REPO}/configs/cwd/cwd_fpn_gfl_digits.py']\n"
        "custom_imports = dict(imports=['kd_mmdet', 'rank_dump'], "
        "allow_failed_imports=False)\n"
        f"custom_hooks = [dict(type='RankDumpHook', out_dir='{out}')]\n")
    return str(config), str(out)


def launch(cmd, cwd, hook_dir, **extra_env):
    """Run with the venv's python first on PATH, one thread per process."""
    bin_dir = osp.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get('PATH', ''),
               PYTHONPATH=hook_dir, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', **extra_env)
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    return out


def assert_ranks_consistent(dump, work):
    ranks = [torch.load(osp.join(dump, f'rank{r}.pth'), weights_only=True) for r in (0, 1)]
    assert [(r['world_size'], r['backend'], r['wrapper']) for r in ranks] == \
        [(2, 'gloo', 'MMDistributedDataParallel')] * 2
    p0, p1 = ranks[0]['params'], ranks[1]['params']
    assert p0.keys() == p1.keys()
    assert all(torch.equal(p0[k], p1[k]) for k in p0)  # student, connectors, teacher
    l0, l1 = ranks[0]['losses'], ranks[1]['losses']
    assert len(l0) == len(l1) == 2  # 8 images, 2 per rank per step
    assert all(a.keys() == b.keys() for a, b in zip(l0, l1))
    assert all(torch.isfinite(torch.tensor(list(s.values()))).all() for s in l0 + l1)
    assert l0[0]['loss'] != l1[0]['loss']  # each rank saw its own images
    saved = torch.load(osp.join(work, 'epoch_1.pth'), weights_only=True)['state_dict']
    student = [k for k in p0 if not k.startswith('teacher.')]
    assert student and all(torch.equal(saved[k], p0[k]) for k in student)


def options(root, teacher):
    return ['--cfg-options', f'model.teacher_ckpt={teacher}', *SHORT, *data_options(root)]


def test_dist_train_sh_two_cpu_processes(tiny_digits, teacher_ckpt, dump_config,  # noqa: F811
                                         tmp_path):
    """bash tools/dist_train.sh CONFIG 2: identical parameters on both ranks."""
    config, dump = dump_config
    work = str(tmp_path / 'work')
    launch(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work,
            *options(tiny_digits, teacher_ckpt)], REPO, str(tmp_path), PORT=str(free_port()))
    assert_ranks_consistent(dump, work)


def test_mim_train_launcher_pytorch_two_cpu_processes(tiny_digits, teacher_ckpt,  # noqa: F811
                                                      dump_config, tmp_path):
    """mim train kd_mmdet CONFIG --launcher pytorch --gpus 2, from another folder."""
    config, dump = dump_config
    work = str(tmp_path / 'work')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    launch([mim, 'train', 'kd_mmdet', config, '--launcher', 'pytorch', '--gpus', '2',
            '--port', str(free_port()), '--work-dir', work,
            *options(tiny_digits, teacher_ckpt)], str(tmp_path), str(tmp_path))
    assert_ranks_consistent(dump, work)
