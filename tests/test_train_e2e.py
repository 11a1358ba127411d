"""Short real training runs through the command-line tools (CPU, tiny digits set)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
pytestmark = pytest.mark.slow


def data_options(root):
    ann = osp.join(root, 'annotations', 'instances_val.json')
    return [f'train_dataloader.dataset.data_root={root}/',
            f'val_dataloader.dataset.data_root={root}/',
            f'test_dataloader.dataset.data_root={root}/',
            f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']


def run(cmd, cwd=REPO):
    env = dict(os.environ, OMP_NUM_THREADS='2')
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    return out


def last_val_metrics(work_dir):
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    rows = [json.loads(line) for line in open(scalars)]
    return [r for r in rows if 'coco/bbox_mAP' in r][-1]


def assert_teacher_is_the_checkpoint(work_dir, teacher_ckpt):
    """The run's last checkpoint, saved with ``model.save_teacher=True``, holds exactly
    the tensors of ``teacher_ckpt`` under ``teacher.``: every key, bit for bit, BatchNorm
    statistics included. A teacher left random, loaded in part, or whose statistics moved
    in training fails (the toy teachers' mAP sits near chance, so an mAP cannot tell)."""
    import torch
    last = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')))[-1]
    saved = torch.load(last, map_location='cpu', weights_only=True)['state_dict']
    saved = {k[len('teacher.'):]: v for k, v in saved.items() if k.startswith('teacher.')}
    expected = torch.load(teacher_ckpt, map_location='cpu', weights_only=True)['state_dict']
    assert saved.keys() == expected.keys()
    differ = [k for k, v in expected.items() if not torch.equal(saved[k], v)]
    assert not differ, differ[:5]


@pytest.fixture(scope='module')
def teacher(tiny_digits, tmp_path_factory):
    """A GFL teacher trained one epoch on the tiny set; every detection kept."""
    work = str(tmp_path_factory.mktemp('teacher'))
    run([sys.executable, 'tools/train.py', 'configs/toy/gfl_teacher_digits.py',
         '--epochs', '1', '--work-dir', work, '--cfg-options', 'model.test_cfg.score_thr=0.0',
         *data_options(tiny_digits)])
    return work


def test_distill_reports_student_and_loaded_teacher_map(tiny_digits, teacher, tmp_path):
    """CWD through the Runner: the run's teacher holds the teacher checkpoint's tensors
    after training, and its mAP in the distill run equals its own."""
    work = str(tmp_path / 'cwd')
    run([sys.executable, 'tools/train.py', 'configs/cwd/cwd_fpn_gfl_digits.py',
         '--epochs', '1', '--work-dir', work, '--cfg-options',
         f'model.teacher_ckpt={teacher}/epoch_1.pth', 'model.save_teacher=True',
         'model.teacher.test_cfg.score_thr=0.0', 'model.architecture.test_cfg.score_thr=0.0',
         *data_options(tiny_digits)])
    assert_teacher_is_the_checkpoint(work, f'{teacher}/epoch_1.pth')
    metrics = last_val_metrics(work)
    assert 0.0 <= metrics['coco/bbox_mAP'] <= 1.0
    # Same weights, same data, same eval: the loaded teacher is evaluated as in its run.
    assert metrics['teacher.coco/bbox_mAP'] == last_val_metrics(teacher)['coco/bbox_mAP']
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'distill.loss_cwd_fpn0' in log and 'student.loss_cls' in log


def test_mim_train_kd_mmdet_finds_config_by_name(tiny_digits, tmp_path):
    """`mim train kd_mmdet <name>` runs from another folder via the packaged configs."""
    work = str(tmp_path / 'mim')
    run([osp.join(osp.dirname(sys.executable), 'mim'), 'train', 'kd_mmdet',
         'gfl_student_digits.py', '--work-dir', work, '--cfg-options',
         'train_cfg.max_epochs=1', *data_options(tiny_digits)], cwd=str(tmp_path))
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))


def test_mim_train_mmrazor_runs_our_distill_config(tiny_digits, teacher, tmp_path):
    """mmrazor's own train script imports on torch 2 and builds kd_mmdet components."""
    work = str(tmp_path / 'razor')
    run([osp.join(osp.dirname(sys.executable), 'mim'), 'train', 'mmrazor',
         osp.join(REPO, 'configs/cwd/cwd_fpn_gfl_digits.py'), '--work-dir', work,
         '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
         f'model.teacher_ckpt={teacher}/epoch_1.pth', *data_options(tiny_digits)],
        cwd=str(tmp_path))
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
