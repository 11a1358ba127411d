"""kd_mmdet.StudentCheckpointHook: the student beside each distillation checkpoint."""
import glob
import os
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from torch import nn

from kd_mmdet.engine.hooks import StudentCheckpointHook
from tests.test_train_e2e import REPO, data_options, last_val_metrics, run
from tests.tools import load_tool

DISTILL_CFG = 'configs/cwd/cwd_fpn_gfl_digits.py'
STUDENT_CFG = 'configs/toy/gfl_student_digits.py'


class Distill(nn.Module):
    """The parts of a distillation algorithm the hook sees."""

    def __init__(self):
        super().__init__()
        self.architecture = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
        self.distiller = nn.Linear(3, 3)


def fake_runner(name):
    return SimpleNamespace(model=Distill(), message_hub=MessageHub.get_instance(name),
                           logger=MMLogger.get_current_instance())


def save(runner, path, kind='last', fill=0.0):
    """What the CheckpointHook does: write the file and announce it in the message hub."""
    for p in runner.model.parameters():
        nn.init.constant_(p, fill)
    torch.save(dict(state_dict=runner.model.state_dict(), meta=dict(epoch=1)), path)
    runner.message_hub.update_info('last_ckpt' if kind == 'last' else 'best_ckpt', path)


def names(folder):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(folder, 'student_*.pth')))


def test_save_all_follows_the_checkpoints_and_their_removal(tmp_path):
    """save='all': one student per checkpoint; a deleted checkpoint takes its student."""
    runner, hook = fake_runner('sch_all'), StudentCheckpointHook()
    hook.before_train(runner)
    save(runner, str(tmp_path / 'epoch_1.pth'))
    hook.after_train_epoch(runner)
    save(runner, str(tmp_path / 'best_acc_epoch_1.pth'), kind='best')
    hook.after_val_epoch(runner, {})
    assert names(tmp_path) == ['student_best_acc_epoch_1.pth', 'student_epoch_1.pth']
    (tmp_path / 'epoch_1.pth').unlink()  # max_keep_ckpts
    save(runner, str(tmp_path / 'epoch_2.pth'), fill=2.0)
    hook.after_train_epoch(runner)
    assert names(tmp_path) == ['student_best_acc_epoch_1.pth', 'student_epoch_2.pth']
    student = torch.load(tmp_path / 'student_epoch_2.pth', weights_only=True)['state_dict']
    assert list(student) == ['0.weight', '0.bias', '1.weight', '1.bias']
    assert all(torch.equal(v, torch.full_like(v, 2.0)) for v in student.values())


def test_save_last_keeps_only_the_latest_and_best_only_the_best(tmp_path):
    """save='last': the previous student is removed; save='best': periodic ones never."""
    runner = fake_runner('sch_last')
    last, best = StudentCheckpointHook(save='last'), StudentCheckpointHook(save='best',
                                                                           prefix='s_')
    for hook in (last, best):
        hook.before_train(runner)
    for epoch in (1, 2):
        save(runner, str(tmp_path / f'epoch_{epoch}.pth'))
        save(runner, str(tmp_path / f'best_acc_epoch_{epoch}.pth'), kind='best')
        if epoch == 2:
            (tmp_path / 'best_acc_epoch_1.pth').unlink()  # overtaken
        for hook in (last, best):
            hook.after_val_epoch(runner, {})
    assert names(tmp_path) == ['student_epoch_2.pth']
    assert sorted(osp.basename(p) for p in glob.glob(str(tmp_path / 's_*.pth'))) == \
        ['s_best_acc_epoch_2.pth']


def test_a_checkpoint_saved_again_is_exported_again(tmp_path):
    """mmengine re-saves the last checkpoint after a new best: the student follows."""
    runner, hook = fake_runner('sch_again'), StudentCheckpointHook()
    hook.before_train(runner)
    path = str(tmp_path / 'epoch_1.pth')
    save(runner, path, fill=1.0)
    hook.after_train_epoch(runner)
    save(runner, path, fill=3.0)
    t = osp.getmtime(path)
    os.utime(path, (t + 1, t + 1))  # a new mtime even on a coarse-grained file system
    hook.after_val_epoch(runner, {})
    student = torch.load(tmp_path / 'student_epoch_1.pth', weights_only=True)['state_dict']
    assert torch.equal(student['0.bias'], torch.full((3, ), 3.0))


def test_bad_arguments_and_models_are_refused():
    """Unknown save kinds, a path as prefix, and a model without a student."""
    with pytest.raises(ValueError, match="save must be one of"):
        StudentCheckpointHook(save='every')
    with pytest.raises(ValueError, match='prefix'):
        StudentCheckpointHook(prefix='a/b_')
    runner = fake_runner('sch_bad')
    runner.model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Linear\\) has no 'architecture'"):
        StudentCheckpointHook().before_train(runner)


def test_a_checkpoint_of_another_student_is_refused(tmp_path):
    """The exported keys must be those of the student being trained."""
    runner, hook = fake_runner('sch_other'), StudentCheckpointHook()
    hook.before_train(runner)
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict={'architecture.x': torch.zeros(1)}), path)
    runner.message_hub.update_info('last_ckpt', path)
    with pytest.raises(RuntimeError, match="missing \\['0.bias', '0.weight'.*unexpected \\['x'\\]"):
        hook.after_train_epoch(runner)


# ---- a real distillation run -------------------------------------------------------
@pytest.mark.slow
def test_student_file_loads_into_the_student_config_and_evaluates_the_same(tiny_digits,
                                                                           tmp_path):
    """Toy CWD, two epochs, one line in the config: the student file written beside
    epoch_2.pth equals tools/export_student.py's, loads strictly into the student's own
    config and gives, with tools/test.py, the mAP the distillation run logged for its
    student; epoch_1's student went with epoch_1.pth (max_keep_ckpts=1)."""
    config = tmp_path / 'cwd_hook.py'
    config.write_text(f"_base_ = ['{REPO}/{DISTILL_CFG}']\n"
                      "custom_hooks = [dict(type='kd_mmdet.StudentCheckpointHook')]\n")
    work = str(tmp_path / 'work')
    run([sys.executable, 'tools/train.py', str(config), '--epochs', '2', '--work-dir', work,
         '--cfg-options', 'model.teacher_ckpt=None', 'train_dataloader.batch_size=4',
         'train_dataloader.dataset.indices=8', 'default_hooks.checkpoint.interval=1',
         'default_hooks.checkpoint.max_keep_ckpts=1', 'train_cfg.val_interval=1',
         'model.architecture.test_cfg.score_thr=0.0', 'model.teacher.test_cfg.score_thr=0.0',
         *data_options(tiny_digits)])
    assert names(work) == ['student_epoch_2.pth']
    ours = torch.load(osp.join(work, 'student_epoch_2.pth'), weights_only=True)

    tool_out = str(tmp_path / 'tool_student.pth')
    export = load_tool('tools/export_student.py')
    assert export.main([osp.join(work, 'epoch_2.pth'), tool_out]) == 0
    tools = torch.load(tool_out, weights_only=True)
    assert ours['meta'] == tools['meta'] and list(ours['state_dict']) == list(tools['state_dict'])
    assert all(torch.equal(ours['state_dict'][k], v) for k, v in tools['state_dict'].items())
    assert export.check_loads(osp.join(REPO, STUDENT_CFG), ours['state_dict'])  # strict

    out = run([sys.executable, 'tools/test.py', STUDENT_CFG,
               osp.join(work, 'student_epoch_2.pth'), '--work-dir', str(tmp_path / 'test'),
               '--cfg-options', 'model.test_cfg.score_thr=0.0', *data_options(tiny_digits)])
    log = out.stdout + out.stderr
    assert 'missing keys' not in log and 'unexpected key' not in log
    logged = last_val_metrics(work)
    assert logged['step'] == 2
    for key in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_s'):
        assert f'coco/{key}: {logged[f"coco/{key}"]:.4f}' in log, key
    assert logged['coco/bbox_mAP_50'] > 0  # not an agreement of zeros
