"""tools/train.py --auto-scale-lr, and the launchers that pass it on."""
import os
import os.path as osp
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

from tests.tools import REPO, load_tool

train_tool = load_tool('tools/train.py')
GFL_R18 = 'configs/students/gfl_r18_fpn_1x_coco.py'  # mmdet's 1x: 2 images/GPU, lr 0.01


def test_auto_scale_lr_enables_the_configs_scaling():
    """--auto-scale-lr parses and sets auto_scale_lr.enable=True, base batch kept."""
    assert train_tool.parse_args([GFL_R18, '--auto-scale-lr']).auto_scale_lr
    assert not train_tool.parse_args([GFL_R18]).auto_scale_lr
    cfg = Config.fromfile(osp.join(REPO, GFL_R18))
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=16)
    train_tool.apply_auto_scale_lr(cfg)
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=16)


def test_auto_scale_lr_doubles_the_lr_on_16_gpus():
    """mmengine's Runner.scale_lr on the enabled config, 16 processes x 2 images: lr x 2."""
    cfg = Config.fromfile(osp.join(REPO, GFL_R18))
    train_tool.apply_auto_scale_lr(cfg)
    wrapper = OptimWrapper(torch.optim.SGD(torch.nn.Linear(1, 1).parameters(),
                                           lr=cfg.optim_wrapper.optimizer.lr))
    runner = SimpleNamespace(_train_dataloader=cfg.train_dataloader, world_size=16,
                             param_schedulers=None, logger=MMLogger.get_current_instance())
    Runner.scale_lr(runner, wrapper, cfg.auto_scale_lr)
    assert wrapper.optimizer.param_groups[0]['lr'] == pytest.approx(0.02)


@pytest.mark.parametrize('scale', [None, dict(enable=False)], ids=['none', 'no_base'])
def test_auto_scale_lr_needs_a_base_batch(scale):
    """No auto_scale_lr, or one without base_batch_size: a clear error."""
    cfg = Config(dict(train_dataloader=dict(batch_size=2)))
    if scale is not None:
        cfg.auto_scale_lr = scale
    with pytest.raises(ValueError, match='--auto-scale-lr needs auto_scale_lr.base_batch_size'):
        train_tool.apply_auto_scale_lr(cfg)


def fake_command(tmp_path, name):
    """An executable ``name`` first on PATH that writes its argv, one per line, to a file."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path / (name + ".argv")}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')


def test_dist_train_sh_passes_nodes_and_options(tmp_path):
    """tools/dist_train.sh: NNODES, NODE_RANK, MASTER_ADDR, PORT reach torchrun; the
    options after N (--auto-scale-lr) reach tools/train.py."""
    env = fake_command(tmp_path, 'python')
    env.update(NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.1', PORT='29511')
    subprocess.run(['bash', 'tools/dist_train.sh', GFL_R18, '8', '--work-dir', 'w',
                    '--auto-scale-lr'], cwd=REPO, env=env, check=True)
    argv = (tmp_path / 'python.argv').read_text().splitlines()
    assert argv[:2] == ['-m', 'torch.distributed.run']
    assert {'--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1', '--master_port=29511',
            '--nproc_per_node=8'} <= set(argv)
    assert argv[-6:] == [GFL_R18, '--launcher', 'pytorch', '--work-dir', 'w',
                         '--auto-scale-lr']


def test_slurm_train_sh_passes_options(tmp_path):
    """tools/slurm_train.sh: the options after WORK_DIR (--auto-scale-lr) reach train.py."""
    env = fake_command(tmp_path, 'srun')
    env.update(GPUS='16', GPUS_PER_NODE='8')
    subprocess.run(['bash', 'tools/slurm_train.sh', 'P', 'job', GFL_R18, 'w',
                    '--auto-scale-lr'], cwd=REPO, env=env, check=True)
    argv = (tmp_path / 'srun.argv').read_text().splitlines()
    assert '--ntasks=16' in argv and '--ntasks-per-node=8' in argv
    assert argv[-4:] == [GFL_R18, '--work-dir=w', '--launcher=slurm', '--auto-scale-lr']


def test_mim_train_passes_options(monkeypatch):
    """mim train kd_mmdet ... --auto-scale-lr: mim runs this repository's tools/train.py
    with the flag (mim's own command, its process call replaced)."""
    from click.testing import CliRunner
    import mim.commands.train  # noqa: F401  the module; mim.commands.train is a function
    mim_train = sys.modules['mim.commands.train']
    calls = []
    monkeypatch.setattr(mim_train.subprocess, 'check_call',
                        lambda cmd, **kwargs: calls.append(cmd) or 0)
    result = CliRunner().invoke(mim_train.cli, [
        'kd_mmdet', GFL_R18, '--launcher', 'pytorch', '--gpus', '8', '--work-dir', 'w',
        '--auto-scale-lr'])
    assert result.exit_code == 0, result.output
    (cmd,) = calls
    assert osp.realpath(cmd[cmd.index(GFL_R18) - 1]) == osp.join(REPO, 'tools', 'train.py')
    assert cmd[cmd.index(GFL_R18):] == [GFL_R18, '--launcher', 'pytorch', '--work-dir', 'w',
                                        '--auto-scale-lr']
