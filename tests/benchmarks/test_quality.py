"""benchmarks/quality.py: statistics, table, result reading, run commands and peer configs."""
import argparse
import json
import math
import os
import os.path as osp
import statistics

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS

from benchmarks import quality, stats
from benchmarks.quality import PAIRS, Run, Settings
from kd_mmdet.datasets.digits_options import score_thr_paths

REPO = quality.REPO


def test_mean_spread_is_mean_and_sample_std():
    """Mean and the n-1 standard deviation; one value has no spread; None values drop."""
    values = [34.3, 33.1, 35.0]
    mean, spread = quality.mean_spread(values + [None])
    assert mean == pytest.approx(sum(values) / 3)
    assert spread == pytest.approx(statistics.stdev(values))
    assert quality.mean_spread([12.0]) == (12.0, None)
    assert quality.mean_spread([]) == (None, None)


def test_gap_closed_share_of_teacher_baseline_gap():
    """(student - baseline) / (teacher - baseline), in %; undefined without a gap."""
    assert quality.gap_closed(34.3, 25.8, 39.7) == pytest.approx(100 * 8.5 / 13.9)
    assert quality.gap_closed(25.8, 25.8, 39.7) == 0.0
    assert quality.gap_closed(20.0, 25.8, 39.7) < 0
    assert quality.gap_closed(30.0, 25.8, 25.8) is None  # teacher not above the student
    assert quality.gap_closed(30.0, 25.8, 5.6) is None
    assert quality.gap_closed(None, 25.8, 39.7) is None


def test_fmt_mean_shows_spread_and_seed_count():
    assert quality.fmt_mean([34.0, 35.0]) == '34.5 ± 0.7 (2)'
    assert quality.fmt_mean([34.04]) == '34.0 (1)'
    assert quality.fmt_mean([None]) == quality.MISSING


def test_to_markdown_has_header_rule_and_rows():
    text = quality.to_markdown(['a', 'b'], [['1', '2'], ['3', '4']])
    assert text.splitlines() == ['| a | b |', '|---|---|', '| 1 | 2 |', '| 3 | 4 |']


def fake_work_dir(root, name, values, key='coco/bbox_mAP', teacher=None, epochs=2):
    """A work dir as mmengine writes it: <ts>/vis_data/scalars.json and <ts>/<ts>.log."""
    run = osp.join(root, name, '20260101_000000')
    os.makedirs(osp.join(run, 'vis_data'))
    rows = [dict(loss=1.0, epoch=e, iter=e * 10, step=e * 10) for e in range(1, epochs + 1)]
    rows += [dict({key: v, 'step': i + 1}, **({f'teacher.{key}': teacher} if teacher else {}))
             for i, v in enumerate(values)]
    with open(osp.join(run, 'vis_data', 'scalars.json'), 'w') as f:
        f.write('\n'.join(json.dumps(r) for r in rows) + '\n')
    with open(osp.join(run, '20260101_000000.log'), 'w') as f:
        f.write('2026/01/01 00:00:00 - mmengine - INFO - start\n'
                '2026/01/01 00:02:30 - mmengine - INFO - end\n')
    open(osp.join(root, name, f'epoch_{epochs}.pth'), 'w').close()
    return osp.join(root, name)


def test_read_metric_takes_the_last_logged_value(tmp_path):
    """The last validation of the newest run, its teacher value and last epoch."""
    work = fake_work_dir(str(tmp_path), 'cwd', [0.10, 0.343], teacher=0.397, epochs=3)
    got = quality.read_metric(work, 'coco/bbox_mAP')
    assert got == dict(value=0.343, teacher=0.397, epoch=3)
    assert quality.read_metric(str(tmp_path / 'none'), 'coco/bbox_mAP')['value'] is None


def test_read_curve_lists_every_validation(tmp_path):
    """Every validation of the newest run as (step, value); the training rows (which
    carry a step but not the key) are not part of it."""
    work = fake_work_dir(str(tmp_path), 'teacher', [0.068, 0.244, 0.296], epochs=3)
    assert quality.read_curve(work, 'coco/bbox_mAP') == [(1, 0.068), (2, 0.244), (3, 0.296)]
    assert quality.read_curve(str(tmp_path / 'none'), 'coco/bbox_mAP') == []


def test_collect_reads_percent_and_wall_time(tmp_path):
    """A finished run: mAP x100 and the log's first-to-last seconds; else 'not run'."""
    bench = quality.Bench(argparse.Namespace(work_root=str(tmp_path)), Settings())
    work = fake_work_dir(str(tmp_path), 'run', [0.25], epochs=2)
    res = bench.collect(dict(work_dir=work, epochs=2, status=None, value=None, wall=None),
                        'det')
    assert res['value'] == pytest.approx(25.0) and res['wall'] == 150.0
    res = bench.collect(dict(work_dir=work, epochs=6, status=None, value=None, wall=None),
                        'det')
    assert res['status'] == 'not run' and res['value'] is None


def result(name, role, seed, value, impl='kd_mmdet', peer_of=None, method=None):
    return dict(name=name, role=role, seed=seed, value=value, impl=impl, peer_of=peer_of,
                method=method or name, epochs=6, wall=60.0, status=None)


def test_summarize_rows_and_targets():
    """Δ paired by seed with its interval, gap from the paired seeds; every target judged
    from the numbers given."""
    results = [result('gfl_teacher', 'teacher', 0, 40.0),
               result('gfl_student', 'baseline', 0, 20.0),
               result('gfl_student', 'baseline', 1, 22.0),
               result('cwd_fpn', 'method', 0, 32.0, method='CWD'),
               result('cwd_fpn', 'method', 1, 34.0, method='CWD'),
               result('cwd_fpn_mmrazor', 'method', 0, 33.0, 'mmrazor', 'cwd_fpn', 'CWD'),
               result('cwd_fpn_mmrazor', 'method', 1, 34.0, 'mmrazor', 'cwd_fpn', 'CWD'),
               result('fgd', 'method', 0, 21.5, method='FGD'),
               result('fgd', 'method', 1, 22.0, method='FGD')]
    rows, verdicts = quality.summarize(results, PAIRS['gfl'])
    by_name = {(r[0], r[2]): r for r in rows}
    cwd = by_name[('CWD', 'kd_mmdet')]
    assert cwd[3] == '33.0 ± 1.4 (2)'
    assert cwd[4] == '+12.0 [+12.0, +12.0]'                   # 12 on both seeds
    assert cwd[5] == f'{100 * 12 / 19:.0f} %'                 # of the 40 - 21 gap
    assert by_name[('CWD', 'mmrazor (peer)')][4].startswith('+12.5 [')
    assert by_name[('teacher', '—')][3] == '40.0 (1)'
    text = '\n'.join(verdicts)
    assert 'CWD: Δ +12.0 [+12.0, +12.0] over 2 seeds — target ≥ +1.0 (mean ≥ 1.0, ' \
        'interval above 0) met' in text
    fgd = stats.paired_delta({0: 21.5, 1: 22.0}, {0: 20.0, 1: 22.0})  # 1.5 and 0.0
    assert f'FGD: Δ {fgd.text()} over 2 seeds' in text and fgd.text().startswith('+0.8 [')
    assert 'FGD' in [v for v in verdicts if v.endswith('MISSED')][0]
    assert f'best gap closed: {100 * 12 / 19:.0f} % (CWD) — target ≥ 50 % met' in text
    # ours - peer per seed: -1.0, 0.0; the interval reaches 0
    peer = stats.paired_delta({0: 32.0, 1: 34.0}, {0: 33.0, 1: 34.0})
    assert f'ours − mmrazor: {peer.text()} over 2 seeds — target ours ≥ peer ' \
        '(interval reaches 0) met' in text
    far = [dict(r, value=r['value'] + 3 + r['seed']) if r['name'] == 'cwd_fpn_mmrazor'
           else r for r in results]                         # 4 above ours on both seeds
    text = '\n'.join(quality.summarize(far, PAIRS['gfl'])[1])
    assert 'ours − mmrazor: -4.0 [-4.0, -4.0] over 2 seeds — target ours ≥ peer ' \
        '(interval reaches 0) MISSED' in text


def test_a_method_is_paired_with_the_baseline_of_its_own_seeds_and_precision():
    """fp32 baseline 20, amp baseline 18, a method at amp 25: Δ +7.0 (not +5.0 against
    fp32's); a baseline seed that failed drops that seed from the method's Δ."""
    results = [result('gfl_teacher', 'teacher', 0, 40.0),
               result('gfl_student', 'baseline', 0, 20.0),
               dict(result('gfl_student@amp', 'baseline', 0, 18.0), precision='amp'),
               dict(result('gfl_student@amp', 'baseline', 1, None), precision='amp'),
               dict(result('cwd_fpn@amp', 'method', 0, 25.0, method='CWD'), precision='amp'),
               dict(result('cwd_fpn@amp', 'method', 1, 99.0, method='CWD'), precision='amp')]
    table, _ = quality.summarize(results, PAIRS['gfl'])
    assert [r for r in table if r[0] == 'CWD @amp'][0][4] == '+7.0'


def test_summarize_without_teacher_gap_says_not_measured():
    results = [result('gfl_teacher', 'teacher', 0, 10.0),
               result('gfl_student', 'baseline', 0, 20.0),
               result('cwd_fpn', 'method', 0, 21.0, method='CWD')]
    rows, verdicts = quality.summarize(results, PAIRS['gfl'])
    assert rows[-1][5] == quality.MISSING
    assert any('gap closed: not measured' in v for v in verdicts)


def test_every_run_names_a_known_pair_and_its_peers_exist():
    """Tables are consistent: pairs exist, peers point at our run of the same method."""
    runs = quality.runs_by_name()
    assert len(runs) == len(quality.DET_RUNS + quality.DIAGNOSIS_RUNS + quality.CLS_RUNS)
    for run in runs.values():
        assert run.pair in PAIRS
        if run.peer_of:
            ours = runs[run.peer_of]
            assert ours.impl == 'kd_mmdet' and ours.method == run.method
            assert ours.pair == run.pair and run.impl != 'kd_mmdet'
    for run in quality.DET_RUNS + quality.DIAGNOSIS_RUNS:  # all in the repository
        assert osp.isfile(osp.join(REPO, run.config)), run.config


def test_select_runs_quick_named_and_unknown():
    quick = quality.select_runs(None, ['det', 'cls'], quick=True)
    assert [r.name for r in quick] == [n for n in quality.runs_by_name()
                                       if n in quality.QUICK_METHODS]
    assert [r.name for r in quality.select_runs(['mgd', 'kd'], ['det'], False)] == ['mgd']
    with pytest.raises(SystemExit, match='unknown method.*nope'):
        quality.select_runs(['nope'], ['det'], False)


def parsed(opts):
    """``--cfg-options`` as tools/train.py's DictAction parses them."""
    return {k: DictAction._parse_iterable(v) for k, v in (o.split('=', 1) for o in opts)}


def test_config_options_set_data_size_seed_teacher_and_scores():
    """Every data path, the Resize scale of each pipeline, seed, teacher and score_thr."""
    settings = Settings(img_size=96, keep_all_scores=True)
    opts = quality.config_options('configs/cwd/cwd_fpn_gfl_digits.py', settings, '/d',
                                  'det', '/t/epoch_1.pth', seed=3)
    cfg = Config.fromfile(osp.join(REPO, 'configs/cwd/cwd_fpn_gfl_digits.py'))
    cfg.merge_from_dict(parsed(opts))
    assert cfg.randomness.seed == 3
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == '/d/'
        resize = [s for s in cfg[loader].dataset.pipeline if s['type'] == 'Resize']
        assert [tuple(s['scale']) for s in resize] == [(96, 96)]
    assert cfg.val_evaluator.ann_file == '/d/annotations/instances_val.json'
    assert cfg.model.teacher_ckpt == '/t/epoch_1.pth'
    assert cfg.model.architecture.test_cfg.score_thr == 0.0
    assert cfg.model.teacher.test_cfg.score_thr == 0.0
    plain = quality.config_options('configs/toy/gfl_student_digits.py',
                                   Settings(img_size=128), '/d', 'det', None, seed=0)
    assert not any('scale' in o or 'score_thr' in o or 'teacher' in o for o in plain)


def test_score_thr_paths_include_two_stage_rcnn():
    cfg = Config.fromfile(osp.join(REPO, 'configs/dkd/dkd_faster-rcnn_digits.py'))
    paths = score_thr_paths(cfg.model)
    assert 'architecture.test_cfg.rcnn.score_thr' in paths
    assert 'teacher.test_cfg.rcnn.score_thr' in paths


def test_estimate_scales_with_iterations_and_threads():
    run = quality.runs_by_name()['cwd_fpn']

    def work(threads=2, **kw):
        settings = Settings(**dict(dict(num_train=800, epochs=6,
                                        img_size=quality.REF_IMG_SIZE), **kw))
        return quality.estimate_seconds(run, settings, False, threads) - quality.SEC_PER_RUN

    assert work() == pytest.approx(quality.SEC_PER_ITER['gfl'] * 100 * 6)
    assert work(epochs=12) == pytest.approx(2 * work())
    # one thread is slower than two by the measured 2 ** THREAD_EXPONENT, not 2x
    assert work(threads=1) == pytest.approx(2 ** quality.THREAD_EXPONENT * work())
    assert 1 < 2 ** quality.THREAD_EXPONENT < 1.5
    assert work(img_size=quality.REF_IMG_SIZE * 2) == pytest.approx(
        2 ** quality.PIXEL_EXPONENT * work())


def test_each_detection_pair_has_its_own_schedule():
    """The Faster R-CNN pair's epochs are its own; GFL's and the classifiers' are not
    touched by them, and the flags reach the settings."""
    runs = quality.runs_by_name()
    settings = quality.make_settings(quality.parse_args(
        ['--epochs', '5', '--teacher-epochs', '9', '--frcnn-epochs', '3',
         '--frcnn-teacher-epochs', '7', '--cls-epochs', '2']))
    teachers = {k: p.teacher for k, p in quality.PAIRS.items()}
    assert settings.epochs_of(runs['cwd_fpn'], False) == 5
    assert settings.epochs_of(teachers['gfl'], True) == 9
    assert settings.epochs_of(runs['dkd_roi'], False) == 3
    assert settings.epochs_of(quality.PAIRS['frcnn'].baseline, False) == 3
    assert settings.epochs_of(teachers['frcnn'], True) == 7
    assert settings.epochs_of(runs['kd'], False) == 2
    quick = quality.make_settings(quality.parse_args(['--quick']))
    assert {quick.epochs_of(r, t) for r in runs.values() for t in (False, True)} == {1}


def test_a_work_root_refuses_other_settings(tmp_path):
    """Runs of two settings never mix in one work root."""
    args = argparse.Namespace(work_root=str(tmp_path), dry_run=False, report_only=False)
    quality.Bench(args, Settings(epochs=6)).check_settings()
    quality.Bench(args, Settings(epochs=6)).check_settings()
    with pytest.raises(SystemExit, match="other settings.*'epochs': \\(6, 4\\)"):
        quality.Bench(args, Settings(epochs=4)).check_settings()


def test_a_root_made_before_a_setting_existed_had_its_default(tmp_path):
    """A settings.json written before a setting was added is read with that setting's
    default (what the root ran with), so old roots resume; another value is refused."""
    args = argparse.Namespace(work_root=str(tmp_path), dry_run=False, report_only=False)
    old = quality.asdict(Settings())
    del old['student_pretrain_seed']
    (tmp_path / 'settings.json').write_text(json.dumps(old))
    quality.Bench(args, Settings()).check_settings()
    with pytest.raises(SystemExit, match="'student_pretrain_seed': \\(0, 1\\)"):
        quality.Bench(args, Settings(student_pretrain_seed=1)).check_settings()


def test_a_root_takes_more_baseline_schedule_multiples(tmp_path):
    """Which schedule multiples a root holds changes no run in it: a later invocation may
    add x4 to a root of x1 and x2; any other setting is still refused."""
    args = argparse.Namespace(work_root=str(tmp_path), dry_run=False, report_only=False)
    quality.Bench(args, Settings(baseline_schedules=[1, 2])).check_settings()
    quality.Bench(args, Settings(baseline_schedules=[1, 4])).check_settings()
    with pytest.raises(SystemExit, match="'epochs': \\(3, 6\\)"):
        quality.Bench(args, Settings(baseline_schedules=[1, 4], epochs=6)).check_settings()


def test_auto_precision_is_amp_only_where_bf16_is_native(monkeypatch):
    """--precision auto (the default): amp on a CPU with bf16 instructions or a CUDA
    device, fp32 on a CPU that would emulate bf16."""
    import torch

    from kd_mmdet.models.utils import precision
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(precision, 'cpu_has_bf16', lambda: False)
    assert quality.make_settings(quality.parse_args([])).precision == 'fp32'
    assert quality.make_settings(quality.parse_args(['--precision', 'amp'])).precision == 'amp'
    monkeypatch.setattr(precision, 'cpu_has_bf16', lambda: True)
    assert quality.make_settings(quality.parse_args([])).precision == 'amp'


def test_each_backbone_is_pretrained_with_its_own_seed(tmp_path):
    """--teacher/--student-pretrain-seed reach each pretraining's randomness.seed and its
    record; the detection seeds do not."""
    args = quality.parse_args(['--dry-run', '--student-pretrain-seed', '3', '--seeds', '5',
                               '--work-root', str(tmp_path)])
    bench = quality.Bench(args, quality.make_settings(args))
    for role, seed in (('teacher', 0), ('student', 3)):
        res = bench.pretrain_backbone(role, str(tmp_path))
        assert res['seed'] == seed
        assert f'randomness.seed={seed} ' in res['command']
        assert res['command'].count('randomness.seed=') == 1


def test_missing_config_is_reported_not_run(tmp_path):
    """A classification entry whose config does not exist yet comes back as 'missing'."""
    args = argparse.Namespace(work_root=str(tmp_path), dry_run=True, report_only=False,
                              threads=1)
    bench = quality.Bench(args, Settings())
    run = Run('later', 'configs/cls/none/none_digits.py', 'cls', 'Later')
    res = bench.train(run, str(tmp_path / 'later'), False, 0, None, str(tmp_path))
    assert res['status'] == 'missing' and res['value'] is None


@pytest.mark.parametrize('peer_path, ours_path, loss_type, loss_name', [
    ('benchmarks/configs/cwd_fpn_gfl_digits_mmrazor.py', 'configs/cwd/cwd_fpn_gfl_digits.py',
     'ChannelWiseDivergence', 'loss_cwd_fpn0'),
    ('benchmarks/configs/mgd_fpn_gfl_digits_mmrazor.py', 'configs/mgd/mgd_fpn_gfl_digits.py',
     'MGDLoss', 'loss_mgd_fpn0')])
def test_peer_configs_swap_only_the_loss_for_mmrazor(peer_path, ours_path, loss_type,
                                                     loss_name):
    """The peer builds with mmrazor's losses (and MGD connectors); pair, recorders and
    mappings equal our config's, and the loss gives the value of ours."""
    peer = Config.fromfile(osp.join(REPO, peer_path))
    ours = Config.fromfile(osp.join(REPO, ours_path))
    for key in ('architecture', 'teacher', 'teacher_ckpt'):
        assert peer.model[key] == ours.model[key]
    for key in ('student_recorders', 'teacher_recorders', 'loss_forward_mappings'):
        assert peer.model.distiller[key] == ours.model.distiller[key]
    peer.model.teacher_ckpt = ours.model.teacher_ckpt = None
    init_default_scope('mmrazor')
    model, reference = MODELS.build(peer.model), MODELS.build(ours.model)
    losses = model.distiller.distill_losses
    assert {f'{type(m).__module__.split(".")[0]}.{type(m).__name__}'
            for m in losses.values()} == {f'mmrazor.{loss_type}'}
    connectors = model.distiller.connectors.values()
    if 'mgd' in peer_path:
        assert {type(c).__module__.split('.')[0] for c in connectors} == {'mmrazor'}
    s, t = torch.randn(2, 128, 8, 8), torch.randn(2, 128, 8, 8)
    ref_loss = reference.distiller.distill_losses[loss_name]
    torch.testing.assert_close(losses[loss_name](s, t), ref_loss(s, t))


@pytest.mark.parametrize('peer_path, ours_path, loss_name', [
    ('benchmarks/configs/kd_resnet20-resnet8_digits_mmrazor.py',
     'configs/cls/kd/kd_resnet20-resnet8_digits.py', 'loss_kd'),
    ('benchmarks/configs/dkd_resnet20-resnet8_digits_mmrazor.py',
     'configs/cls/dkd/dkd_resnet20-resnet8_digits.py', 'loss_dkd')])
def test_classification_peers_give_our_loss_values(peer_path, ours_path, loss_name):
    """mmrazor's KLDivergence / DKDLoss with our hyper-parameters: the same values."""
    if not osp.isfile(osp.join(REPO, ours_path)):
        pytest.skip(f'{ours_path} does not exist yet')
    peer = Config.fromfile(osp.join(REPO, peer_path))
    ours = Config.fromfile(osp.join(REPO, ours_path))
    assert peer.model.distiller.loss_forward_mappings == \
        ours.model.distiller.loss_forward_mappings
    assert peer.get('custom_hooks') == ours.get('custom_hooks')
    init_default_scope('mmrazor')
    peer_loss = MODELS.build(peer.model.distiller.distill_losses[loss_name])
    our_loss = MODELS.build(ours.model.distiller.distill_losses[loss_name])
    assert type(peer_loss).__module__.startswith('mmrazor.')
    gen = torch.Generator().manual_seed(0)
    s, t = torch.randn(16, 10, generator=gen) * 3, torch.randn(16, 10, generator=gen) * 3
    args = (s, t) if loss_name == 'loss_kd' else (s, t, torch.randint(0, 10, (16,),
                                                                      generator=gen))
    torch.testing.assert_close(peer_loss(*args), our_loss(*args))


def test_precision_options_set_teacher_and_step_explicitly():
    """Every precision names its teacher options for distillation runs and its optimizer
    wrapper for all runs (fp32 too, so a config default cannot change it); peers and
    baselines get no teacher option."""
    assert quality.precision_options('fp32', False) == ['optim_wrapper.type=OptimWrapper']
    amp = quality.precision_options('amp', True)
    assert 'model.teacher_precision=bf16' in amp and 'model.teacher_channels_last=True' in amp
    assert amp[-1] == 'optim_wrapper.type=kd_mmdet.AutocastOptimWrapper'
    assert 'model.teacher_precision=fp32' in quality.precision_options('fp32', True)
    assert quality.variant('cwd_fpn', 'fp32') == 'cwd_fpn'
    assert quality.variant('cwd_fpn', 'amp') == 'cwd_fpn@amp'


def test_precision_rows_compare_each_seed_with_fp32():
    """Δ is paired by seed with the fp32 run, over the seeds both finished (fp32 10, 20,
    30; amp seed 0 failed, 21, 31: +1.0 over 2 seeds); the verdict asks whether the
    interval contains 0; a variant's Δ vs baseline uses the baseline of its precision."""
    results = [result('gfl_teacher', 'teacher', 0, 40.0),
               result('gfl_student', 'baseline', 0, 20.0),
               result('gfl_student', 'baseline', 1, 22.0),
               result('cwd_fpn', 'method', 0, 10.0, method='CWD'),
               result('cwd_fpn', 'method', 1, 20.0, method='CWD'),
               result('cwd_fpn', 'method', 2, 30.0, method='CWD'),
               dict(result('gfl_student@amp', 'baseline', 0, 21.0), precision='amp'),
               dict(result('gfl_student@amp', 'baseline', 1, 23.0), precision='amp'),
               dict(result('cwd_fpn@amp', 'method', 0, None, method='CWD'), precision='amp'),
               dict(result('cwd_fpn@amp', 'method', 1, 21.0, method='CWD'), precision='amp'),
               dict(result('cwd_fpn@amp', 'method', 2, 31.0, method='CWD'), precision='amp')]
    rows, verdicts = quality.precision_rows(results)
    cwd = [r for r in rows if r[0] == 'cwd_fpn'][0]
    assert cwd[1] == 'amp' and cwd[4] == '+1.00 [+1.00, +1.00]' and cwd[5] == '2'
    assert cwd[2] == '26.0 ± 7.1 (2)' and cwd[3] == '25.0 ± 7.1 (2)'  # seeds 1, 2 only
    assert 'cwd_fpn @amp: +1.00 [+1.00, +1.00] vs fp32 over 2 seeds — equal (interval ' \
           'contains 0) MISSED' in verdicts
    base = [r for r in rows if r[0] == 'gfl_student'][0]
    assert base[4] == '+1.00 [+1.00, +1.00]'
    table, _ = quality.summarize(results, PAIRS['gfl'])
    amp_row = [r for r in table if r[0] == 'CWD @amp'][0]
    assert amp_row[4] == '-2.0'       # seed 1 only: 21 - 23 (no amp baseline of seed 2)


def test_bf16_teacher_variant_shares_the_fp32_baseline():
    """bf16t changes only the teacher: its baseline is fp32's (not trained twice) and its
    Δ is measured against it; amp has its own baseline."""
    assert quality.step_precision('bf16t') == 'fp32'
    assert quality.step_precision('amp') == 'amp'
    results = [result('gfl_teacher', 'teacher', 0, 40.0),
               result('gfl_student', 'baseline', 0, 20.0),
               dict(result('cwd_fpn@bf16t', 'method', 0, 25.0, method='CWD'),
                    precision='bf16t')]
    table, _ = quality.summarize(results, PAIRS['gfl'])
    assert [r for r in table if r[0] == 'CWD @bf16t'][0][4] == '+5.0'


def test_a_trained_detection_run_is_scored_on_the_test_split(tmp_path):
    """After training, the value is the test pass's mAP (x100) and val_value the last
    validation's; the test command loads the final checkpoint and points the test loop
    (loader and evaluator) at instances_test.json; without its metrics file a run is
    'not tested', not scored on val."""
    args = argparse.Namespace(work_root=str(tmp_path), dry_run=False, report_only=True,
                              threads=1)
    bench = quality.Bench(args, Settings())
    work = fake_work_dir(str(tmp_path), 'run', [0.25], epochs=3)
    res = bench.collect(dict(work_dir=work, epochs=3, status=None, value=None, wall=None),
                        'det')
    data = str(tmp_path / 'data')
    tested = bench.test(res, 'cfg.py', ['randomness.seed=1'], data)
    assert tested['status'] == 'not tested' and tested['value'] is None
    assert tested['val_value'] == pytest.approx(25.0)
    cmd = tested['test_command']
    assert f'tools/test.py cfg.py {work}/epoch_3.pth' in cmd
    assert 'randomness.seed=1 test_dataloader.dataset.ann_file=annotations/' \
           'instances_test.json' in cmd
    assert f'test_evaluator.ann_file={data}/annotations/instances_test.json' in cmd
    with open(osp.join(work, 'test_metrics.json'), 'w') as f:
        json.dump({'coco/bbox_mAP': 0.312, 'coco/bbox_mAP_50': 0.5}, f)
    tested = bench.test(res, 'cfg.py', [], data)
    assert tested['status'] is None and tested['split'] == 'test'
    assert tested['value'] == pytest.approx(31.2) and tested['val_value'] == pytest.approx(25.0)


def test_the_test_split_is_part_of_the_data_dir_and_settings():
    """Two test-split sizes make two data dirs; 0 keeps the val-only name; quick mode
    tests on a few images."""
    assert Settings().num_test == 1024
    dirs = {Settings(num_test=n).data_dir('w', 'det') for n in (0, 16, 1024)}
    assert len(dirs) == 3 and 'w/data/digits_det_2560-256_96px' in dirs
    assert quality.make_settings(quality.parse_args(['--quick'])).num_test == 16
    assert quality.make_settings(quality.parse_args(['--num-test', '0'])).num_test == 0


def test_a_classification_run_at_chance_after_warm_up_is_failed_not_scored(tmp_path):
    """Epochs after the warm-up whose every logged loss is >= 0.95 ln 10 are stalled;
    such a run's status says failed and its value is None (its seed leaves the pairing),
    a run that learns keeps its score."""
    chance = math.log(10)
    rows = [dict(epoch=1, step=25, loss=2.30), dict(epoch=1, step=50, loss=2.29),
            dict(epoch=2, step=75, loss=2.28), dict(epoch=2, step=100, loss=2.25),
            dict(epoch=3, step=125, loss=2.30), dict(epoch=3, step=150, loss=1.50)]
    assert quality.stalled_epochs(rows, warmup=50) == [2]
    assert quality.stalled_epochs(rows, warmup=100) == []
    distill = [dict(epoch=1, step=60, loss=5.0, **{'student.loss': 0.9 * chance})]
    assert quality.stalled_epochs(distill, warmup=50) == []

    args = argparse.Namespace(work_root=str(tmp_path), dry_run=False, report_only=True,
                              threads=1)
    bench = quality.Bench(args, Settings())
    work = fake_work_dir(str(tmp_path), 'run', [25.0], key='accuracy/top1', epochs=2)
    scalars = osp.join(work, '20260101_000000', 'vis_data', 'scalars.json')
    with open(scalars, 'w') as f:  # the training rows above, then the validation
        f.write(''.join(json.dumps(r) + '\n' for r in rows + [{'accuracy/top1': 25.0}]))
    base = dict(work_dir=work, epochs=2, status=None, value=None, wall=None,
                config='configs/cls/toy/resnet8_digits.py')
    res = bench.collect(dict(base), 'cls')
    assert res['value'] is None and res['stalled_value'] == pytest.approx(25.0)
    assert res['status'].startswith('failed: training loss >= 0.95 ln 10 through epoch(s) 2')
    assert quality.by_seed([dict(res, seed=0)]) == {}


def test_the_warm_up_is_the_runs_own(tmp_path):
    """A run trained with ``--cfg-options param_scheduler.0.end=100`` is judged after its
    own 100-iteration warm-up (the config mmengine wrote into its work dir), not after the
    config file's 50: the rows of epoch 2 (steps 75 and 100) are then warm-up."""
    from mmengine.config import Config
    rows = [dict(epoch=2, step=75, loss=2.28), dict(epoch=2, step=100, loss=2.25),
            dict(epoch=3, step=125, loss=1.50)]
    args = argparse.Namespace(work_root=str(tmp_path), dry_run=False, report_only=True,
                              threads=1)
    bench = quality.Bench(args, Settings())
    config = 'configs/cls/toy/resnet8_digits.py'
    results = []
    for name, end in (('as_written', None), ('longer_warm_up', 100)):
        work = fake_work_dir(str(tmp_path), name, [25.0], key='accuracy/top1', epochs=2)
        with open(osp.join(work, '20260101_000000', 'vis_data', 'scalars.json'), 'w') as f:
            f.write(''.join(json.dumps(r) + '\n' for r in rows + [{'accuracy/top1': 25.0}]))
        if end is not None:
            cfg = Config.fromfile(osp.join(REPO, config))
            cfg.merge_from_dict({'param_scheduler.0.end': end})
            cfg.dump(osp.join(work, osp.basename(config)))
        results.append(bench.collect(dict(work_dir=work, epochs=2, status=None, value=None,
                                          wall=None, config=config), 'cls'))
    assert quality.warmup_iters(osp.join(REPO, config)) == 50
    assert results[0]['status'].startswith('failed') and results[0]['value'] is None
    assert results[1]['status'] is None and results[1]['value'] == pytest.approx(25.0)
