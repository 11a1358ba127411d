"""benchmarks/quality.py: an interrupted run resumes from its last checkpoint, and its
scalars and wall time join the attempts."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from benchmarks import quality

REPO = quality.REPO


def attempt(work_dir, stamp, rows, seconds):
    """One attempt's folder as mmengine writes it: <stamp>/vis_data/scalars.json and a
    log whose first and last lines are ``seconds`` apart."""
    run = osp.join(work_dir, stamp)
    os.makedirs(osp.join(run, 'vis_data'))
    with open(osp.join(run, 'vis_data', 'scalars.json'), 'w') as f:
        f.write(''.join(json.dumps(r) + '\n' for r in rows))
    with open(osp.join(run, f'{stamp}.log'), 'w') as f:
        f.write(f'2026/01/01 00:00:00 - mmengine - INFO - start\n'
                f'2026/01/01 00:{seconds // 60:02d}:{seconds % 60:02d} - mmengine - INFO - end\n')


def train_row(epoch, loss):
    return dict(loss=loss, epoch=epoch, iter=10 * epoch, step=10 * epoch)


def val_row(epoch, value):
    return {'accuracy/top1': value, 'step': epoch}


def test_scalars_of_a_resumed_run_join_its_attempts(tmp_path):
    """Attempt 1 trained epochs 1-3 (validated 1-2) and was cut in epoch 3 after the
    epoch-2 checkpoint; attempt 2 resumed at epoch 3. Each epoch appears once, the
    resumed attempt's rows replacing the cut ones; the wall time is the two logs' sum."""
    work = str(tmp_path / 'run')
    attempt(work, '20260101_000000', [train_row(1, 2.3), val_row(1, 10.0), train_row(2, 2.0),
                                      val_row(2, 30.0), train_row(3, 9.9)], 90)
    attempt(work, '20260101_010000', [train_row(3, 1.5), val_row(3, 50.0), train_row(4, 1.2),
                                      val_row(4, 60.0)], 150)
    rows = quality.read_scalars(work)
    assert [r['loss'] for r in rows if 'loss' in r] == [2.3, 2.0, 1.5, 1.2]
    assert quality.read_curve(work, 'accuracy/top1') == [
        (1, 10.0), (2, 30.0), (3, 50.0), (4, 60.0)]
    assert quality.read_metric(work, 'accuracy/top1')['epoch'] == 4
    assert quality.load_repro_table().run_wall(work) == 240.0


def test_the_repro_table_times_a_resumed_run_over_its_attempts(tmp_path):
    """tools/repro_table.py's wall time of a run resumed once is both starts' (90 + 150 s),
    not only the last one's; its mAP is the resumed start's last validation."""
    from mmengine.config import Config
    work = str(tmp_path / 'run')
    map_row = {'coco/bbox_mAP': 0.25, 'step': 2}
    attempt(work, '20260101_000000', [train_row(1, 2.3), train_row(2, 9.9)], 90)
    attempt(work, '20260101_010000', [train_row(2, 1.5), map_row], 150)
    cfg = Config.fromfile(osp.join(REPO, 'configs/toy/gfl_student_digits.py'))
    for run in quality.load_repro_table().run_dirs(work):
        cfg.dump(osp.join(run, 'vis_data', 'config.py'))
    row = quality.load_repro_table().read_run(work)
    assert row['wall time'] == 240.0
    assert row['student mAP'] == 25.0


def test_a_run_that_never_stopped_is_read_as_before(tmp_path):
    work = str(tmp_path / 'run')
    rows = [train_row(1, 2.0), val_row(1, 20.0), train_row(2, 1.0), val_row(2, 40.0)]
    attempt(work, '20260101_000000', rows, 75)
    assert quality.read_scalars(work) == rows
    assert quality.load_repro_table().run_wall(work) == 75.0
    assert quality.read_scalars(str(tmp_path / 'none')) == []
    assert quality.load_repro_table().run_wall(str(tmp_path / 'none')) is None


def test_resume_from_the_last_checkpoint_else_start_clean(tmp_path):
    """With mmengine's last_checkpoint the command gains --resume; without one, the logs
    of an attempt that saved nothing are removed (kept when only planning)."""
    work = str(tmp_path / 'run')
    cmd = quality.train_command('c.py', work, 3, ['a=1'])
    assert cmd[-1] == 'default_hooks.checkpoint.interval=1'
    attempt(work, '20260101_000000', [train_row(1, 2.3)], 30)
    assert quality.resumable(cmd, work, dry_run=True) == cmd
    assert len(quality.load_repro_table().run_dirs(work)) == 1
    assert quality.resumable(cmd, work) == cmd
    assert quality.load_repro_table().run_dirs(work) == []
    attempt(work, '20260101_000000', [train_row(1, 2.3)], 30)
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'epoch_1.pth'))
    assert quality.resumable(cmd, work) == cmd + ['--resume']
    assert len(quality.load_repro_table().run_dirs(work)) == 1


def validated(work_dir):
    """Whether the run in ``work_dir`` has logged a validation."""
    return any('accuracy/top1' in r for r in quality.read_scalars(work_dir))


@pytest.mark.slow
def test_an_interrupted_training_run_resumes_where_it_stopped(tmp_path):
    """A real run of the toy classifier, killed once it has saved and validated an epoch,
    then run again as quality.py runs it: it resumes (two attempts, the second starting
    after epoch 1), ends with its final checkpoint, and its curve has every epoch once."""
    from kd_mmdet.datasets import make_digits_classification
    data = str(tmp_path / 'data')
    make_digits_classification(data, num_train=480, num_val=24, seed=0)
    work = str(tmp_path / 'run')
    options = [f'{s}_dataloader.dataset.data_root={data}/' for s in ('train', 'val', 'test')]
    options += ['train_dataloader.batch_size=4', 'train_cfg.val_interval=1']
    cmd = quality.train_command('configs/cls/toy/resnet8_digits.py', work, 3, options)
    full = [sys.executable] + cmd[1:]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    first = subprocess.Popen(full, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 600
    while not validated(work) and first.poll() is None:  # epoch 1 saved, then validated
        assert time.time() < deadline, 'the first attempt validated no epoch in 10 min'
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert not osp.isfile(quality.final_checkpoint(work, 3))

    again = quality.resumable(cmd, work)
    assert again[-1] == '--resume'
    subprocess.run([sys.executable] + again[1:], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert osp.isfile(quality.final_checkpoint(work, 3))
    dirs = quality.load_repro_table().run_dirs(work)
    assert len(dirs) == 2
    with open(osp.join(dirs[1], 'vis_data', 'scalars.json')) as f:
        resumed = [json.loads(line) for line in f]
    assert min(r['epoch'] for r in resumed if 'epoch' in r) >= 2
    assert [step for step, _ in quality.read_curve(work, 'accuracy/top1')] == [1, 2, 3]
    assert quality.load_repro_table().run_wall(work) is not None
