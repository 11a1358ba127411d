"""Classification distillation through tools/train.py: one short run per method on a tiny
generated digits set, then tools/export_student.py to a plain mmpretrain checkpoint."""
import glob
import json
import math
import os.path as osp
import sys

import pytest
import torch

from tests.test_train_e2e import assert_teacher_is_the_checkpoint, run

pytestmark = pytest.mark.slow

STUDENT = 'configs/cls/toy/resnet8_digits.py'
# Config of each method on the toy pair, and the loss entries each iteration must log.
METHODS = {
    'kd': ('configs/cls/kd/kd_resnet20-resnet8_digits.py', ['distill.loss_kd']),
    'dkd': ('configs/cls/dkd/dkd_resnet20-resnet8_digits.py', ['distill.loss_dkd']),
    'ofa': ('configs/cls/ofa/ofa_resnet20-resnet8_digits.py',
            ['distill.loss_ofa_logits', 'distill.loss_ofa_stage0', 'distill.loss_ofa_stage1']),
    'projector': ('configs/cls/projector/projector_resnet20-resnet8_digits.py',
                  ['distill.loss_logsum', 'distill.loss_kd']),
    'bld': ('configs/cls/bld/bld_resnet20-resnet8_digits.py',
            ['loss_task', 'loss_distill', 'loss_cross']),
}


def data_options(root):
    return [f'{split}_dataloader.dataset.data_root={root}/'
            for split in ('train', 'val', 'test')]


def scalars(work_dir):
    path = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    return [json.loads(line) for line in open(path)]


@pytest.fixture(scope='module')
def tiny_cls(tmp_path_factory):
    """48 train / 24 val images of the digits classification set."""
    from kd_mmdet.datasets import make_digits_classification
    root = str(tmp_path_factory.mktemp('digits_cls'))
    make_digits_classification(root, num_train=48, num_val=24, seed=0)
    return root


@pytest.fixture(scope='module')
def cls_teacher(tiny_cls, tmp_path_factory):
    """The toy ResNet-20 teacher, trained one epoch on the tiny set."""
    work = str(tmp_path_factory.mktemp('cls_teacher'))
    run([sys.executable, 'tools/train.py', 'configs/cls/toy/resnet20_digits.py', '--epochs',
         '1', '--work-dir', work, '--cfg-options', *data_options(tiny_cls)])
    return work


@pytest.mark.parametrize('method', sorted(METHODS))
def test_one_epoch_then_plain_student_export(method, tiny_cls, cls_teacher, tmp_path):
    """Every term is logged, finite and non-zero, the teacher holds the teacher
    checkpoint's tensors after training and scores as in its own run, and the export
    (teacher, connectors, branches dropped) loads strictly into the student."""
    config, terms = METHODS[method]
    work = str(tmp_path / method)
    run([sys.executable, 'tools/train.py', config, '--epochs', '1', '--work-dir', work,
         '--cfg-options', f'model.teacher_ckpt={cls_teacher}/epoch_1.pth',
         'model.save_teacher=True', 'default_hooks.logger.interval=1',
         'train_dataloader.batch_size=16', *data_options(tiny_cls)])
    rows = scalars(work)
    train = [r for r in rows if 'loss' in r]
    assert len(train) == 3  # 48 images, batches of 16, logged every iteration
    for row in train:
        assert all(math.isfinite(row[term]) for term in terms), row
        # Trained teacher vs a fresh student: no term is 0 (LogSum, a logarithm: != 0).
        assert all(row[t] != 0 if 'logsum' in t else row[t] > 0 for t in terms), row
    assert_teacher_is_the_checkpoint(work, f'{cls_teacher}/epoch_1.pth')
    if method == 'dkd':  # DistillLossWarmupHook: first epoch of a 5-epoch warm-up
        assert all(row['distill_loss_scale'] == pytest.approx(1 / 5) for row in train)
    val = [r for r in rows if 'accuracy/top1' in r][-1]
    teacher_val = [r for r in scalars(cls_teacher) if 'accuracy/top1' in r][-1]
    assert val['teacher.accuracy/top1'] == teacher_val['accuracy/top1']

    out = str(tmp_path / 'student.pth')
    run([sys.executable, 'tools/export_student.py', f'{work}/epoch_1.pth', out,
         '--student-config', STUDENT])
    state = torch.load(out, weights_only=True)['state_dict']
    assert all(k.split('.', 1)[0] in ('backbone', 'neck', 'head') for k in state)
