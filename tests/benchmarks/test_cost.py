"""benchmarks/cost.py: shapes, memory and time measurement, loss pairs, step benchmark."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

from benchmarks import cost

REPO = cost.REPO


def test_fpn_shapes_follow_the_stride_2_conv_chain():
    """P3-P7 of a padded 800x1333 input equal what stride-2 3x3 convs (padding 1) give."""
    shapes = cost.fpn_shapes(800, 1333)
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    x = torch.zeros(1, 1, 800, 1344)  # padded to a multiple of 32
    sizes = []
    with torch.no_grad():
        for level in range(1, 8):
            x = conv(x)
            if level >= 3:
                sizes.append(tuple(x.shape[2:]))
    assert [s[2:] for s in shapes] == sizes
    assert all(s[:2] == (2, 256) for s in shapes)
    assert sizes[0] == (100, 168)


def test_peak_rss_sees_a_transient_allocation():
    """A 128 MiB tensor freed before reading the peak still shows in it."""
    rss = cost.PeakRSS()
    if not rss.resettable:
        pytest.skip('no resettable peak-RSS mark on this system')
    rss.reset()
    base = rss.current()
    block = torch.ones(32 * 2**20)  # 128 MiB, every page written
    del block
    assert rss.peak() - base >= 120
    rss.reset()
    assert rss.peak() - rss.current() < 16


def test_median_times_orders_and_repeats():
    """Medians reflect each function's duration; fast calls are repeated to min_time."""
    counts = [0, 0]

    def short():
        counts[0] += 1
        time.sleep(0.002)

    def long():
        counts[1] += 1
        time.sleep(0.006)

    t_short, t_long = cost.median_times([short, long], repeats=3, warmup=1, min_time=0.05)
    assert 0.002 <= t_short < t_long and t_long >= 0.006
    assert counts[0] == counts[1] >= 1 + 0.05 / 0.006


def test_every_loss_pair_agrees_with_its_reference():
    """Ours and the reference on the same tensors: same loss and same gradient. Every loss
    of ours that names an upstream implementation (``upstream_types``) is compared with
    it in a case its method declares (configs/**/benchmark.yml)."""
    from kd_mmdet.methods import _registered
    cases = cost.loss_cases(64, 96)
    assert set(cases) == {e['name'] for e in cost.declared_cost_cases()}
    compared = {(c.ours_label.split('.')[-1], c.ref_label.split(' ')[-1])
                for c in cases.values()}
    for name, cls in _registered().items():
        for upstream in getattr(cls, 'upstream_types', ()):
            assert (name, upstream) in compared, f'{name} vs {upstream}: no cost case'
    for name, case in cases.items():
        values = cost.compare_values(case)
        assert values['value_diff'] <= 1e-5 * max(abs(values['ref']), 1.0), name
        assert values['grad_diff'] <= 1e-4 * values['grad_scale'], name
        assert values['grad_scale'] > 0, name


def test_loss_memory_child_reports_a_peak():
    """One forward+backward of CWD at a small input adds a measurable, finite peak."""
    got = cost.child_loss_memory('cwd', 'ours', 64, 96)
    assert 0 <= got['peak_mb'] < 256


def test_fake_detection_batch_has_boxes_inside_the_images():
    batch = cost.fake_batch('det', 96, 4)
    assert [tuple(x.shape) for x in batch['inputs']] == [(3, 96, 96)] * 4
    for sample in batch['data_samples']:
        boxes, labels = sample.gt_instances.bboxes, sample.gt_instances.labels
        assert 1 <= len(boxes) <= 3 and len(labels) == len(boxes)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 96).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all() and ((labels >= 0) & (labels < 10)).all()


def test_step_child_times_distill_student_and_teacher():
    """CWD on the toy GFL pair, tiny batch: three timings and a distillation peak RSS."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as cost.py's children run with --threads 1
    try:
        got = cost.child_step('cwd_fpn', img_size=64, batch=2, steps=2, warmup=1)
    finally:
        torch.set_num_threads(threads)
    assert got['time_distill'] > 0 and got['time_student'] > 0 and got['time_teacher'] > 0
    assert got['peak_mb'] >= got['base_mb'] > 0


@pytest.mark.slow
def test_cost_quick_runs_one_loss_pair(tmp_path):
    """`benchmarks/cost.py --quick` for CWD only: a table row, equal values, JSON."""
    out = tmp_path / 'cost.json'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, 'benchmarks/cost.py', '--quick', '--part', 'losses',
                           '--losses', 'cwd', '--threads', '1', '--out-json', str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '| cwd | 5 levels 28×44' in proc.stdout and '## Targets' in proc.stdout
    rows = json.loads(out.read_text())['losses']
    assert [r['name'] for r in rows] == ['cwd']
    row = rows[0]
    assert row['value_diff'] <= 1e-5 * abs(row['ref'])
    assert row['time_ours'] > 0 and row['time_ref'] > 0
    assert row['mem_ours'] >= 0 and row['mem_ref'] >= 0
    assert osp.isfile(out)
