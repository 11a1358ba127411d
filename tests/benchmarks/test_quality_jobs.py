"""benchmarks/quality.py: runs side by side (``Jobs``, ``--jobs``) in the order and with
the dependencies of the plan."""
import json
import os.path as osp
import threading
import time

import pytest

from benchmarks import quality
from benchmarks.quality import Jobs, Settings, gather


def test_jobs_run_side_by_side_up_to_n():
    """Two tasks that each wait for the other to start both finish with n=2; a third
    waits for a free thread (never more than n at once)."""
    barrier = threading.Barrier(2, timeout=10)
    running, peak, lock = [0], [0], threading.Lock()

    def task(name):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if name != 'c':
            barrier.wait()  # raises BrokenBarrierError if the other never starts
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return name

    jobs = Jobs(2)
    futures = [jobs.submit(task, n) for n in 'abc']
    assert gather(futures, jobs) == ['a', 'b', 'c'] and peak[0] == 2
    jobs.shutdown()


def test_jobs_wait_for_dependencies_and_pass_their_errors():
    """A task starts after the tasks it names have finished; a failed dependency fails
    the task with that error, and gather raises it."""
    log = []

    def slow(name):
        time.sleep(0.2)
        log.append(name)
        return name

    def fail():
        raise RuntimeError('teacher failed')

    jobs = Jobs(2)
    first = jobs.submit(slow, 'teacher')
    second = jobs.submit(lambda: log.append('student') or 'student', after=[first])
    assert gather([first, second], jobs) == ['teacher', 'student']
    assert log == ['teacher', 'student']
    bad = jobs.submit(fail)
    after_bad = jobs.submit(lambda: 'never', after=[bad])
    with pytest.raises(RuntimeError, match='teacher failed'):
        gather([after_bad], jobs)
    with pytest.raises(ValueError, match='n must be >= 1'):
        Jobs(0)


def test_one_job_runs_in_order_in_the_callers_thread():
    caller, seen = threading.get_ident(), []
    jobs = Jobs(1)
    futures = [jobs.submit(lambda i=i: seen.append((i, threading.get_ident())) or i)
               for i in range(3)]
    assert [f.result() for f in futures] == [0, 1, 2]
    assert seen == [(i, caller) for i in range(3)]
    # an error is kept for gather, but Ctrl-C stops the plan at once, not after every
    # later run
    failed = jobs.submit(lambda: 1 / 0)
    assert isinstance(failed.exception(), ZeroDivisionError)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jobs.submit(interrupted)


def _fake_bench(tmp_path, monkeypatch, jobs):
    """A Bench whose training and pretraining only record when they ran."""
    args = quality.parse_args(['--tasks', 'det', '--methods', 'cwd_fpn', 'mgd', 'dkd_roi',
                               '--seeds', '0', '1', '--jobs', str(jobs),
                               '--work-root', str(tmp_path)])
    args.precisions = ['amp']
    bench = quality.Bench(args, Settings())
    spans, lock = {}, threading.Lock()

    def record(key):
        start = time.monotonic()
        time.sleep(0.03)
        with lock:
            spans[key] = (start, time.monotonic())

    def train(run, work_dir, teacher, seed, teacher_ckpt, data_root, extra=(),
              backbone_ckpt=None, schedule=1, test=True):
        key = 'teacher/' + run.name if teacher else f'{seed}/{osp.basename(work_dir)}'
        record(key)
        return dict(name=run.name, work_dir=work_dir, seed=seed, teacher=teacher_ckpt,
                    backbone=backbone_ckpt, schedule=schedule)

    def pretrain_backbone(role, data_root):
        record('pretrain/' + role)
        return dict(name=quality.BACKBONES[role][0], work_dir=str(tmp_path / 'pretrain' / role))

    monkeypatch.setattr(bench, 'train', train)
    monkeypatch.setattr(bench, 'pretrain_backbone', pretrain_backbone)
    monkeypatch.setattr(bench, 'make_data', lambda task: str(tmp_path / task))
    return bench, spans


def test_run_all_side_by_side_keeps_dependencies_and_the_plans_order(tmp_path, monkeypatch):
    """With --jobs 2: runs overlap, at most two at once; a teacher starts after the
    teacher backbone's pretraining, a baseline after the student backbone's, a distilled
    run after its own teacher; the results come back in the order of --jobs 1, with the
    same teacher checkpoints and backbones."""
    serial, _ = _fake_bench(tmp_path / 'one', monkeypatch, 1)
    expected = serial.run_all(quality.select_runs(['cwd_fpn', 'mgd', 'dkd_roi'], ['det'],
                                                  False), [0, 1])
    bench, spans = _fake_bench(tmp_path / 'two', monkeypatch, 2)
    results = bench.run_all(quality.select_runs(['cwd_fpn', 'mgd', 'dkd_roi'], ['det'],
                                                False), [0, 1])
    strip = [{k: str(v).replace(str(tmp_path / 'one'), '') for k, v in r.items()}
             for r in expected]
    assert [{k: str(v).replace(str(tmp_path / 'two'), '') for k, v in r.items()}
            for r in results] == strip
    assert [r['name'] for r in results][:4] == [
        'pretrain_resnet50', 'pretrain_resnet18-w32', 'gfl_teacher', 'gfl_student']

    def after(later, earlier):
        assert spans[later][0] >= spans[earlier][1], f'{later} started before {earlier} ended'

    for seed in (0, 1):
        for name in ('cwd_fpn', 'mgd'):
            after(f'{seed}/{name}', 'teacher/gfl_teacher')
        after(f'{seed}/dkd_roi', 'teacher/frcnn_teacher')
        for base in ('gfl_student', 'frcnn_student', 'gfl_student_x2', 'frcnn_student_x2'):
            after(f'{seed}/{base}', 'pretrain/student')
    for teacher in ('gfl_teacher', 'frcnn_teacher'):
        after('teacher/' + teacher, 'pretrain/teacher')
    events = sorted([(s, 1) for s, _ in spans.values()] + [(e, -1) for _, e in spans.values()])
    depth = [sum(d for _, d in events[:i + 1]) for i in range(len(events))]
    assert max(depth) == 2, 'two runs at a time, never more'
    # the longest teacher is started first, so that the pair waiting on it is not last
    assert spans['teacher/frcnn_teacher'][0] <= spans['teacher/gfl_teacher'][0]


def test_default_jobs_fill_the_cores_at_the_threads_each(monkeypatch):
    monkeypatch.setattr(quality.os, 'sched_getaffinity', lambda pid: set(range(2)),
                        raising=False)
    assert quality.default_jobs(1) == 2 and quality.default_jobs(2) == 1
    monkeypatch.setattr(quality.os, 'sched_getaffinity', lambda pid: set(range(64)),
                        raising=False)
    assert quality.default_jobs(1) == 4 and quality.default_jobs(16) == 4
    args = quality.parse_args(['--jobs', '3'])
    assert args.jobs == 3 and args.threads == 1
    with pytest.raises(SystemExit, match='--jobs \\(0\\) must be >= 1'):
        quality.main(['--jobs', '0', '--dry-run', '--work-root', '/nonexistent'])


def test_dry_run_estimate_divides_by_the_jobs(tmp_path, capsys):
    """The estimate of the same plan with 2 runs at a time is half of its 1-at-a-time
    estimate at the same threads."""
    def estimate(jobs):
        quality.main(['--dry-run', '--tasks', 'det', '--methods', 'cwd_fpn', '--seeds', '0',
                      '--jobs', str(jobs), '--work-root', str(tmp_path / 'root')])
        line = capsys.readouterr().out.strip().splitlines()[-1]
        return float(line.split('detection ')[1].split(' min')[0])

    one, two = estimate(1), estimate(2)
    assert one > 10 and two == pytest.approx(one / 2, abs=0.6)
    assert not osp.exists(tmp_path / 'root' / 'settings.json')


def test_configs_are_read_one_thread_at_a_time(tmp_path, monkeypatch):
    """Config.fromfile is not thread-safe (mmengine asks pkg_resources about `mmdet::`
    bases; two threads at once raised TypeError): a run reads its config and writes its
    pretrained config holding the bench's config lock."""
    args = quality.parse_args(['--tasks', 'det', '--jobs', '2', '--work-root', str(tmp_path)])
    bench = quality.Bench(args, Settings())
    held = []
    monkeypatch.setattr(quality, 'write_pretrained_config',
                        lambda src, ckpt, out: held.append(bench.config_lock.locked()))
    options = quality.config_options
    monkeypatch.setattr(quality, 'config_options', lambda *a: held.append(
        bench.config_lock.locked()) or options(*a))
    monkeypatch.setattr(bench, 'run_unless_done', lambda cmd, done, log: False)
    run = quality.runs_by_name()['cwd_fpn']
    res = bench.train(run, str(tmp_path / 'w'), False, 0, 't.pth', str(tmp_path), (),
                      str(tmp_path / 'b.pth'))
    assert held == [True, True] and res['status'] == 'failed'


def test_baselines_only_trains_the_students_alone_at_each_multiple(tmp_path, monkeypatch):
    """--baselines-only: no teacher and no teacher backbone, every baseline at each
    --baseline-schedules multiple (its work dir named _x<m>), after the student backbone."""
    bench, spans = _fake_bench(tmp_path, monkeypatch, 1)
    bench.args.baselines_only = True
    bench.settings.baseline_schedules = [1, 2, 4]
    results = bench.run_all([quality.PAIRS['gfl'].baseline], [0])
    assert sorted(spans) == ['0/gfl_student', '0/gfl_student_x2', '0/gfl_student_x4',
                             'pretrain/student']
    assert [r.get('schedule') for r in results[1:]] == [1, 2, 4]


def test_each_finished_run_is_recorded_once_as_it_returns(tmp_path):
    """runs.jsonl gets a scored run and a run failed at chance as each returns, once per
    work dir (a resumed benchmark finds the run done and does not record it again), and
    not a run that did not train."""
    args = quality.parse_args(['--work-root', str(tmp_path)])
    bench = quality.Bench(args, Settings())
    runs = [dict(work_dir='a', value=1.0, status=None),
            dict(work_dir='b', value=None, status='failed: training loss >= 0.95 ln 10'),
            dict(work_dir='c', value=None, status='not run'),
            dict(work_dir='a', value=1.0, status=None)]
    for run in runs:
        assert bench.logged(lambda run=run: run)() is run
    with open(tmp_path / 'runs.jsonl') as f:
        lines = [json.loads(line) for line in f]
    assert [r['work_dir'] for r in lines] == ['a', 'b'] and 'finished' in lines[0]
