"""Two Slurm tasks on CPU (gloo) through tools/slurm_train.sh and through
`mim train kd_mmdet CONFIG --launcher slurm -G 2 -g 2 -p PARTITION`.

There is no Slurm here: tests/slurm_stub/ puts a stand-in ``srun`` (and ``scontrol``) on
PATH that starts the tasks of one job step locally with the variables Slurm gives each
task (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST, SLURM_LOCALID, ...) and nothing else.
RANK, WORLD_SIZE, LOCAL_RANK and MASTER_ADDR are therefore set only if mmengine's Slurm
initialisation ran; each rank records them, its parameters and its losses, and the ranks
must agree as in tests/test_dist_train_e2e.py.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.test_dist_train_e2e import assert_ranks_consistent, free_port, options
from tests.test_resume_e2e import teacher_ckpt  # noqa: F401  (fixture)
from tests.test_train_e2e import REPO

pytestmark = pytest.mark.slow
STUB = osp.join(REPO, 'tests', 'slurm_stub')

DUMP_HOOK = '''
import os
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

ENV = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'SLURM_PROCID',
       'SLURM_LOCALID', 'SLURM_NTASKS', 'SLURM_JOB_NAME', 'SLURM_JOB_PARTITION')


@HOOKS.register_module()
class SlurmRankDumpHook(Hook):
    """Every rank writes rank<r>.pth: parameters, losses, process group, environment."""

    def __init__(self, out_dir):
        self.out_dir, self.losses = out_dir, []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items() if 'loss' in k})

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(dict(params={k: v.detach().clone() for k, v in model.named_parameters()},
                        losses=self.losses, world_size=dist.get_world_size(),
                        backend=dist.get_backend(), wrapper=type(runner.model).__name__,
                        env={k: os.environ.get(k) for k in ENV}, launcher=runner.launcher),
                   os.path.join(self.out_dir, f'rank{dist.get_rank()}.pth'))
'''


@pytest.fixture
def slurm_config(tmp_path):
    """The toy CWD config plus the dump hook; returns (config path, dump folder)."""
    (tmp_path / 'slurm_rank_dump.py').write_text(DUMP_HOOK)
    out = tmp_path / 'dump'
    out.mkdir()
    config = tmp_path / 'cwd_slurm.py'
    config.write_text(
        f"_base_ = ['{REPO}/configs/cwd/cwd_fpn_gfl_digits.py']\n"
        "custom_imports = dict(imports=['kd_mmdet', 'slurm_rank_dump'], "
        "allow_failed_imports=False)\n"
        f"custom_hooks = [dict(type='SlurmRankDumpHook', out_dir='{out}')]\n")
    return str(config), str(out)


def launch(cmd, cwd, hook_dir, **extra_env):
    """Run with the stand-in srun and the venv's python first on PATH, one thread each."""
    path = os.pathsep.join([STUB, osp.dirname(sys.executable), os.environ.get('PATH', '')])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('SLURM_') and k not in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE',
                                                      'MASTER_ADDR', 'MASTER_PORT')}
    env.update(PATH=path, PYTHONPATH=hook_dir, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               **extra_env)
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    return out


def assert_slurm_ranks(dump, partition, job_name):
    """Both ranks were set up by mmengine's Slurm path from their SLURM_* variables."""
    for rank in (0, 1):
        state = torch.load(osp.join(dump, f'rank{rank}.pth'), weights_only=True)
        assert state['launcher'] == 'slurm'
        env = state['env']
        assert env['SLURM_PROCID'] == env['RANK'] == str(rank)
        assert env['SLURM_LOCALID'] == env['LOCAL_RANK'] == str(rank)
        assert env['SLURM_NTASKS'] == env['WORLD_SIZE'] == '2'
        assert env['MASTER_ADDR'] == 'localhost'  # from `scontrol show hostname`
        assert env['SLURM_JOB_PARTITION'] == partition
        assert env['SLURM_JOB_NAME'] == job_name


def test_slurm_train_sh_two_cpu_tasks(tiny_digits, teacher_ckpt, slurm_config,  # noqa: F811
                                      tmp_path):
    """GPUS=2 bash tools/slurm_train.sh debug cwd CONFIG WORK_DIR: identical parameters."""
    config, dump = slurm_config
    work = str(tmp_path / 'work')
    launch(['bash', 'tools/slurm_train.sh', 'debug', 'cwd-toy', config, work,
            *options(tiny_digits, teacher_ckpt)], REPO, str(tmp_path),
           GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1', GRES='',
           MASTER_PORT=str(free_port()))
    assert_ranks_consistent(dump, work)
    assert_slurm_ranks(dump, 'debug', 'cwd-toy')


def test_mim_train_launcher_slurm_two_cpu_tasks(tiny_digits, teacher_ckpt,  # noqa: F811
                                                slurm_config, tmp_path):
    """mim train kd_mmdet CONFIG --launcher slurm -G 2 -g 2 -p debug, from another folder."""
    config, dump = slurm_config
    work = str(tmp_path / 'work')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    launch([mim, 'train', 'kd_mmdet', config, '--launcher', 'slurm', '-G', '2', '-g', '2',
            '-c', '1', '-p', 'debug', '--port', str(free_port()), '--work-dir', work,
            *options(tiny_digits, teacher_ckpt)], str(tmp_path), str(tmp_path))
    assert_ranks_consistent(dump, work)
    assert_slurm_ranks(dump, 'debug', 'cwd_slurm_train')


def test_slurm_train_sh_usage():
    """Fewer than four arguments: a usage line, exit status 2, no srun started."""
    out = subprocess.run(['bash', 'tools/slurm_train.sh', 'debug', 'job'], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 2 and 'usage: bash tools/slurm_train.sh PARTITION' in out.stderr
