"""Resuming a distillation run gives the weights and logged losses of an uninterrupted run.

Each test trains two epochs of two iterations in one go (run A, checkpoint every epoch),
then resumes a second process from A's first checkpoint (run B) and compares B's final
checkpoint and logs with A's, bit for bit (CPU, seeded, deterministic algorithms).
"""
import glob
import json
import os.path as osp
import sys

import pytest
import torch

from tests.test_train_e2e import REPO, data_options, run

pytestmark = pytest.mark.slow

SHORT = ['train_dataloader.batch_size=4', 'train_dataloader.dataset.indices=8',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
         'default_hooks.checkpoint.max_keep_ckpts=2', 'randomness.seed=0',
         'randomness.deterministic=True']


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """A randomly initialised toy GFL teacher, saved as a plain checkpoint."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(osp.join(REPO, 'configs/cwd/cwd_fpn_gfl_digits.py'))
    init_default_scope('mmdet')
    torch.manual_seed(0)
    teacher = MODELS.build(cfg.model.teacher)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def train(config, work, root, teacher, *options, resume=None):
    cmd = [sys.executable, 'tools/train.py', config, '--epochs', '2', '--work-dir', work]
    if resume:
        cmd += ['--resume', resume]
    run(cmd + ['--cfg-options', f'model.teacher_ckpt={teacher}', *SHORT, *options,
               *data_options(root)])


def state(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def logged_losses(work):
    """{iteration: {loss name: value}} of the training log rows."""
    scalars = sorted(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')))[-1]
    rows = [json.loads(line) for line in open(scalars)]
    return {r['step']: {k: v for k, v in r.items() if 'loss' in k}
            for r in rows if 'loss' in r}


def assert_same_training(a, b):
    """B's final student, connectors and optimizer equal A's; so do the logged losses
    of the iterations both ran (B logs only the resumed epoch)."""
    ckpt_a, ckpt_b = state(osp.join(a, 'epoch_2.pth')), state(osp.join(b, 'epoch_2.pth'))
    for key, value in ckpt_a['state_dict'].items():
        assert torch.equal(value, ckpt_b['state_dict'][key]), key
    moments_a = [s['exp_avg'] for s in ckpt_a['optimizer']['state'].values()]
    moments_b = [s['exp_avg'] for s in ckpt_b['optimizer']['state'].values()]
    assert all(torch.equal(x, y) for x, y in zip(moments_a, moments_b, strict=True))
    losses_a, losses_b = logged_losses(a), logged_losses(b)
    assert sorted(losses_b) == [3, 4]
    for step, losses in losses_b.items():
        assert losses == losses_a[step], step
    return ckpt_a, ckpt_b


def test_resumed_cwd_run_equals_uninterrupted_and_reloads_the_teacher(
        tiny_digits, teacher_ckpt, tmp_path):
    """CWD: exact resume from a checkpoint that carries no teacher; the resumed run,
    saving its teacher this time, holds exactly the teacher_ckpt weights."""
    config = 'configs/cwd/cwd_fpn_gfl_digits.py'
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    no_val = 'train_cfg.val_begin=100'
    train(config, a, tiny_digits, teacher_ckpt, no_val)
    first = state(osp.join(a, 'epoch_1.pth'))['state_dict']
    assert not any(k.startswith('teacher.') for k in first)
    train(config, b, tiny_digits, teacher_ckpt, no_val, 'model.save_teacher=True',
          resume=osp.join(a, 'epoch_1.pth'))
    _, ckpt_b = assert_same_training(a, b)
    teacher = state(teacher_ckpt)['state_dict']
    saved = {k[len('teacher.'):]: v for k, v in ckpt_b['state_dict'].items()
             if k.startswith('teacher.')}
    assert saved.keys() == teacher.keys()
    assert all(torch.equal(v, teacher[k]) for k, v in saved.items())


def test_resumed_mgd_run_with_reseed_hook_equals_uninterrupted(tiny_digits, teacher_ckpt,
                                                               tmp_path):
    """MGD draws random masks every step: exact across a resume with ReseedHook, with a
    validation (which draws a loader seed) after each epoch."""
    config = tmp_path / 'mgd_reseed.py'
    config.write_text(f"_base_ = ['{REPO}/configs/mgd/mgd_fpn_gfl_digits.py']\n"
                      "custom_hooks = [dict(type='kd_mmdet.ReseedHook')]\n")
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    with_val = 'train_cfg.val_interval=1'
    train(str(config), a, tiny_digits, teacher_ckpt, with_val)
    train(str(config), b, tiny_digits, teacher_ckpt, with_val,
          resume=osp.join(a, 'epoch_1.pth'))
    assert_same_training(a, b)
