"""FGD, MGD, ReviewKD, LD and DKD through tools/train.py: one epoch each on the tiny digits set."""
import glob
import json
import math
import os.path as osp
import re
import sys

import pytest

from tests.test_train_e2e import (assert_teacher_is_the_checkpoint, data_options,
                                  last_val_metrics, run)
from tests.test_train_e2e import teacher  # noqa: F401  one GFL teacher for the module

pytestmark = pytest.mark.slow

LEVELS = range(5)  # P3..P7 of the toy GFL pair
# Config of the toy GFL pair, and the distillation entries each iteration must log.
METHODS = {
    'fgd': ('configs/fgd/fgd_fpn_gfl_digits.py',
            [f'distill.loss_fgd_fpn{i}_{term}' for i in LEVELS
             for term in ('fg', 'bg', 'mask', 'global')]),
    'mgd': ('configs/mgd/mgd_fpn_gfl_digits.py', [f'distill.loss_mgd_fpn{i}' for i in LEVELS]),
    'reviewkd': ('configs/reviewkd/reviewkd_fpn_gfl_digits.py', ['distill.loss_reviewkd']),
    'ld': ('configs/ld/ld_gfl_digits.py',
           [f'distill.loss_ld_{term}' for term in ('main', 'vlr', 'kd')]),
}


NO_BACKGROUND = re.compile(r'loss_fgd_fpn[234]_bg$')


def train_rows(work_dir):
    """The per-iteration training rows of a run's scalars.json."""
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    rows = [json.loads(line) for line in open(scalars)]
    return [r for r in rows if 'loss' in r]


@pytest.mark.parametrize('method', sorted(METHODS))
def test_one_epoch_logs_finite_terms_and_both_maps(method, tiny_digits, teacher,  # noqa: F811
                                                   tmp_path):
    """Every distillation term is logged, finite and > 0; the teacher holds the teacher
    checkpoint's tensors after training; student and teacher mAP reported."""
    config, terms = METHODS[method]
    work = str(tmp_path / method)
    run([sys.executable, 'tools/train.py', config, '--epochs', '1', '--work-dir', work,
         '--cfg-options', f'model.teacher_ckpt={teacher}/epoch_1.pth',
         'model.save_teacher=True',
         'model.teacher.test_cfg.score_thr=0.0', 'model.architecture.test_cfg.score_thr=0.0',
         'default_hooks.logger.interval=1', *data_options(tiny_digits)])
    rows = train_rows(work)
    assert len(rows) == 3  # 24 images, batches of 8, logged every iteration
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    for row in rows:
        assert {k for k in row if k.startswith('distill.')} == set(terms)
        assert all(math.isfinite(row[term]) and row[term] >= 0 for term in terms), row
        # Trained teacher vs a fresh student: no term is 0 (nor a mapping's copy of one),
        # but FGD's background on P5-P7: at 96 px these are 3x3 or smaller, and its
        # inclusive box mask can leave no background cell in a batch.
        assert all(row[term] > 0 for term in terms if not NO_BACKGROUND.search(term)), row
    assert all(term in log for term in terms)
    assert_teacher_is_the_checkpoint(work, f'{teacher}/epoch_1.pth')
    metrics = last_val_metrics(work)
    assert 0.0 <= metrics['coco/bbox_mAP'] <= 1.0
    # Same weights, same data, same eval: the loaded teacher is evaluated as in its run.
    assert metrics['teacher.coco/bbox_mAP'] == last_val_metrics(teacher)['coco/bbox_mAP']


@pytest.fixture(scope='module')
def frcnn_teacher(tiny_digits, tmp_path_factory):
    """A Faster R-CNN teacher trained one epoch on the tiny set; every detection kept."""
    work = str(tmp_path_factory.mktemp('frcnn_teacher'))
    run([sys.executable, 'tools/train.py', 'configs/toy/faster-rcnn_teacher_digits.py',
         '--epochs', '1', '--work-dir', work, '--cfg-options',
         'model.test_cfg.rcnn.score_thr=0.0', *data_options(tiny_digits)])
    return work


def test_dkd_on_roi_logits_one_epoch(tiny_digits, frcnn_teacher, tmp_path):
    """DKD on Faster R-CNN RoI logits: TCKD and NCKD logged, finite, > 0; the teacher
    holds the teacher checkpoint's tensors after training."""
    work = str(tmp_path / 'dkd')
    run([sys.executable, 'tools/train.py', 'configs/dkd/dkd_faster-rcnn_digits.py',
         '--epochs', '1', '--work-dir', work, '--cfg-options',
         f'model.teacher_ckpt={frcnn_teacher}/epoch_1.pth', 'model.save_teacher=True',
         'model.teacher.test_cfg.rcnn.score_thr=0.0',
         'model.architecture.test_cfg.rcnn.score_thr=0.0',
         'default_hooks.logger.interval=1', *data_options(tiny_digits)])
    terms = ['distill.loss_dkd_tckd', 'distill.loss_dkd_nckd']
    rows = train_rows(work)
    assert len(rows) == 3
    for row in rows:
        assert {k for k in row if k.startswith('distill.')} == set(terms)
        assert all(math.isfinite(row[t]) and row[t] > 0 for t in terms), row
    assert_teacher_is_the_checkpoint(work, f'{frcnn_teacher}/epoch_1.pth')
    metrics = last_val_metrics(work)
    assert metrics['teacher.coco/bbox_mAP'] == last_val_metrics(frcnn_teacher)['coco/bbox_mAP']
