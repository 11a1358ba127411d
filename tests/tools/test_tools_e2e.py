"""The tools on real tiny runs: one CWD distillation run and one plain student run,
trained once for the whole file (CPU, 8 training images, one epoch)."""
import csv
import glob
import json
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from tests.test_train_e2e import data_options, last_val_metrics, run
from tests.tools import REPO, load_tool

pytestmark = pytest.mark.slow

DISTILL_CFG = 'configs/cwd/cwd_fpn_gfl_digits.py'
STUDENT_CFG = 'configs/toy/gfl_student_digits.py'
# Two iterations of 4 images, each logged (for the curves). Untrained scores sit under
# the default 0.05 threshold; with none kept CocoMetric logs no mAP, so keep them all.
SHORT = ['train_dataloader.batch_size=4', 'train_dataloader.dataset.indices=8',
         'default_hooks.logger.interval=1']
KEEP_ALL = {'model.architecture.test_cfg.score_thr': 0.0,
            'model.teacher.test_cfg.score_thr': 0.0}


def options(root, **extra):
    """The data root overrides of test_train_e2e as a dict for Config.merge_from_dict."""
    return dict(dict(o.split('=', 1) for o in data_options(root)), **extra)


@pytest.fixture(scope='module')
def distill_run(tiny_digits, tmp_path_factory):
    """CWD on the toy GFL pair, randomly initialised teacher, one short epoch."""
    work = str(tmp_path_factory.mktemp('cwd'))
    run([sys.executable, 'tools/train.py', DISTILL_CFG, '--epochs', '1', '--work-dir', work,
         '--cfg-options', 'model.teacher_ckpt=None', *SHORT,
         *[f'{k}={v}' for k, v in KEEP_ALL.items()], *data_options(tiny_digits)])
    return work


@pytest.fixture(scope='module')
def baseline_run(tiny_digits, tmp_path_factory):
    """The same student trained alone, equally short."""
    work = str(tmp_path_factory.mktemp('student'))
    run([sys.executable, 'tools/train.py', STUDENT_CFG, '--epochs', '1', '--work-dir', work,
         '--cfg-options', 'model.test_cfg.score_thr=0.0', *SHORT, *data_options(tiny_digits)])
    return work


@pytest.fixture(scope='module')
def exported(distill_run, tmp_path_factory):
    """The student of the distillation checkpoint, written by export_student.py."""
    out = str(tmp_path_factory.mktemp('export') / 'student.pth')
    export = load_tool('tools/export_student.py')
    assert export.main([osp.join(distill_run, 'epoch_1.pth'), out,
                        '--student-config', osp.join(REPO, STUDENT_CFG)]) == 0
    return out


# ---- coco_eval -------------------------------------------------------------------
@pytest.fixture(scope='module')
def coco_eval_run(distill_run, tiny_digits, tmp_path_factory):
    """tools/coco_eval.py on the distillation config and checkpoint: its printout, its
    JSON report and its CSV."""
    tmp = tmp_path_factory.mktemp('coco_eval')
    out_json, out_csv = tmp / 'eval.json', tmp / 'eval.csv'
    out = run([sys.executable, 'tools/coco_eval.py', DISTILL_CFG,
               osp.join(distill_run, 'epoch_1.pth'), '--work-dir', str(tmp / 'work'),
               '--out-json', str(out_json), '--out-csv', str(out_csv), '--cfg-options',
               *[f'{k}={v}' for k, v in KEEP_ALL.items()], *data_options(tiny_digits)])
    return dict(stdout=out.stdout, report=json.loads(out_json.read_text()),
                csv=out_csv.read_text())


def test_coco_eval_checkpoint_matches_the_runs_own_map(distill_run, coco_eval_run):
    """Distillation config + checkpoint: the student's AP equals the mAP the run logged
    (CocoMetric logs 3 decimals; the full-precision agreement with tools/test.py is
    checked below)."""
    report = coco_eval_run['report']
    logged = last_val_metrics(distill_run)
    assert round(report['metrics']['AP'], 3) == logged['coco/bbox_mAP']
    assert round(report['metrics']['AP50'], 3) == logged['coco/bbox_mAP_50']
    assert len(report['per_class']) == 10
    out = coco_eval_run['stdout']
    assert 'class  num_gt' in out and '8/8' in out  # table and progress bar
    assert coco_eval_run['csv'].splitlines()[1].startswith('all,')


def test_coco_eval_refuses_a_checkpoint_of_another_model(distill_run, tiny_digits, tmp_path,
                                                        capsys):
    """A distillation checkpoint with the student's config fails instead of evaluating
    random weights (the Runner itself would only warn)."""
    coco_eval = load_tool('tools/coco_eval.py')
    assert coco_eval.main([osp.join(REPO, STUDENT_CFG), osp.join(distill_run, 'epoch_1.pth'),
                           '--work-dir', str(tmp_path), '--cfg-options',
                           *data_options(tiny_digits)]) == 1
    assert 'does not fit' in capsys.readouterr().err


# ---- export_student ----------------------------------------------------------------
def test_exported_checkpoint_holds_the_student_alone(distill_run, exported):
    """Only architecture.* keys, prefix stripped, same tensors; minimal meta."""
    source = torch.load(osp.join(distill_run, 'epoch_1.pth'), map_location='cpu')
    ckpt = torch.load(exported, map_location='cpu', weights_only=True)
    student = {k[len('architecture.'):]: v for k, v in source['state_dict'].items()
               if k.startswith('architecture.')}
    assert set(ckpt) == {'meta', 'state_dict'}
    assert not any(k.startswith(('teacher.', 'distiller.', 'architecture.'))
                   for k in ckpt['state_dict'])
    assert list(ckpt['state_dict']) == list(student)
    assert all(torch.equal(ckpt['state_dict'][k], v) for k, v in student.items())
    assert set(ckpt['meta']) <= {'dataset_meta', 'epoch', 'iter', 'mmengine_version',
                                 'exported_from'}
    others = [k.split('.', 1)[0] + '.' for k in source['state_dict']
              if not k.startswith('architecture.')]
    assert ckpt['meta']['exported_from']['dropped'] == {p: others.count(p) for p in others}
    assert set(others) == {'teacher.', 'distiller.'}


def test_exported_checkpoint_loads_weights_only_on_bare_torch(exported):
    """No kd_mmdet allow-list needed: a fresh interpreter with torch alone reads it."""
    code = ('import sys, torch; ck = torch.load(sys.argv[1], weights_only=True); '
            'print(len(ck["state_dict"]))')
    out = subprocess.run([sys.executable, '-c', code, exported], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout) > 0


def build(config, checkpoint, cfg_options):
    """The config's model with the checkpoint loaded strictly, in eval mode."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import load_checkpoint
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict(cfg_options)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.eval()
    return model, cfg


def predict(model, dataloader):
    with torch.no_grad():
        return [s.pred_instances for batch in dataloader for s in model.test_step(batch)]


def test_exported_student_predicts_like_the_distilled_student(distill_run, exported,
                                                             tiny_digits):
    """Same boxes, scores and labels from the student config + export as from the
    distillation model + its checkpoint, on the validation images."""
    from mmengine.runner import Runner
    distilled, _ = build(DISTILL_CFG, osp.join(distill_run, 'epoch_1.pth'),
                         options(tiny_digits, **{'model.teacher_ckpt': None}, **KEEP_ALL))
    student, cfg = build(STUDENT_CFG, exported,
                         options(tiny_digits, **{'model.test_cfg.score_thr': 0.0}))
    loader = Runner.build_dataloader(dict(cfg.val_dataloader, num_workers=0,
                                          persistent_workers=False))
    expected, got = predict(distilled, loader), predict(student, loader)
    assert len(got) == len(expected) == 8
    assert sum(len(p) for p in got) > 0
    for e, g in zip(expected, got):
        assert torch.equal(e.bboxes, g.bboxes)
        assert torch.equal(e.scores, g.scores)
        assert torch.equal(e.labels, g.labels)


def test_exported_student_evaluates_with_tools_test(distill_run, exported, coco_eval_run,
                                                    tiny_digits, tmp_path):
    """`tools/test.py STUDENT_CONFIG EXPORTED.pth` loads every key and gets the run's mAP;
    its detections, evaluated at full precision, give every COCO statistic and every
    per-class AP of coco_eval.py on the distillation checkpoint, to the last bit (the
    3-decimal logs of values near 0.001 could not tell the student from another model)."""
    from kd_mmdet.analysis.coco import evaluate_coco, load_coco_quietly
    prefix = str(tmp_path / 'student')
    metrics_path = tmp_path / 'metrics' / 'test.json'
    out = run([sys.executable, 'tools/test.py', STUDENT_CFG, exported, '--work-dir',
               str(tmp_path), '--out-metrics', str(metrics_path),
               '--cfg-options', 'model.test_cfg.score_thr=0.0',
               f'test_evaluator.outfile_prefix={prefix}', *data_options(tiny_digits)])
    log = out.stdout + out.stderr
    assert 'missing keys' not in log and 'unexpected key' not in log
    logged = last_val_metrics(distill_run)['coco/bbox_mAP']
    assert f'coco/bbox_mAP: {logged:.4f}' in log
    assert json.load(open(metrics_path))['coco/bbox_mAP'] == logged  # --out-metrics

    ann = osp.join(tiny_digits, 'annotations', 'instances_val.json')
    result = evaluate_coco(load_coco_quietly(ann), f'{prefix}.bbox.json')
    report = coco_eval_run['report']
    assert result['metrics'] == report['metrics']
    assert result['per_class'] == report['per_class']
    assert report['metrics']['AR100'] > 0  # not an agreement of zeros


# ---- analysis ----------------------------------------------------------------------
def is_png(path):
    with open(path, 'rb') as f:
        return f.read(8) == b'\x89PNG\r\n\x1a\n' and osp.getsize(path) > 10_000


def test_plot_curves_writes_loss_and_map_pngs(distill_run, baseline_run, tmp_path, capsys):
    """Both runs in one pair of figures: the losses panel grid and mAP over epochs."""
    plot = load_tool('tools/analysis/plot_curves.py')
    assert plot.main([distill_run, baseline_run, '--labels', 'cwd', 'student',
                      '--out-dir', str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert written == [str(tmp_path / 'losses.png'), str(tmp_path / 'coco_bbox_mAP.png')]
    assert all(is_png(p) for p in written)


def test_cka_heatmap_of_a_distillation_checkpoint(distill_run, tiny_digits, tmp_path):
    """Teacher stages × student stages (4 backbone + 5 FPN each), values in [0, 1]."""
    cka = load_tool('tools/analysis/cka_heatmap.py')
    png, matrix = str(tmp_path / 'cka.png'), str(tmp_path / 'cka.json')
    assert cka.main(['--distill', DISTILL_CFG, osp.join(distill_run, 'epoch_1.pth'),
                     '--num-images', '4', '--batch-size', '4', '--grid', '2',
                     '--out', png, '--out-json', matrix, '--cfg-options',
                     f'val_dataloader.dataset.data_root={tiny_digits}/']) == 0
    result = json.loads(open(matrix).read())
    assert result['teacher_stages'][0] == 'backbone[0] /4'
    assert result['student_stages'][-1] == 'neck[4] /128'
    values = torch.tensor(result['cka'])
    assert values.shape == (9, 9) and ((values >= 0) & (values <= 1 + 1e-9)).all()
    assert is_png(png)


# ---- repro_table ---------------------------------------------------------------------
def partial_copy(work_dir, dest):
    """A copy of a 1-epoch run whose config asked for 2 epochs and that never validated:
    a run stopped after its first epoch."""
    from mmengine.config import Config
    shutil.copytree(work_dir, dest)
    vis = osp.dirname(glob.glob(osp.join(dest, '*', 'vis_data', 'scalars.json'))[0])
    cfg = Config.fromfile(osp.join(vis, 'config.py'))
    cfg.train_cfg.max_epochs = 2
    cfg.dump(osp.join(vis, 'config.py'))
    scalars = osp.join(vis, 'scalars.json')
    rows = [line for line in open(scalars) if '"iter"' in line]
    open(scalars, 'w').writelines(rows)
    return dest


def with_maps(work_dir, dest, **maps):
    """A copy of a run whose validation rows log the given values instead (keys as in
    scalars.json, e.g. ``coco/bbox_mAP``): runs whose numbers differ, unlike two
    one-epoch toy runs that both log about 0.001."""
    shutil.copytree(work_dir, dest)
    scalars = glob.glob(osp.join(dest, '*', 'vis_data', 'scalars.json'))[0]
    rows = [json.loads(line) for line in open(scalars)]
    val = [row for row in rows if 'coco/bbox_mAP' in row]
    assert val and all(set(maps) <= set(row) for row in val), (maps, val)
    for row in val:
        row.update(maps)
    with open(scalars, 'w') as f:
        f.writelines(json.dumps(row) + '\n' for row in rows)
    return dest


def test_repro_table_rows_delta_and_partial_runs(distill_run, baseline_run, tmp_path):
    """Baseline first, Δ = distilled − baseline student mAP (runs of 25.34 and 31.27 mAP:
    +5.9, where a reversed subtraction gives -5.9), teacher mAP from the teacher's
    column; a partial and a missing run say so and fill nothing in."""
    repro = load_tool('tools/repro_table.py')
    baseline = with_maps(baseline_run, str(tmp_path / 'baseline'),
                         **{'coco/bbox_mAP': 0.2534})
    distilled = with_maps(distill_run, str(tmp_path / 'cwd'),
                          **{'coco/bbox_mAP': 0.3127, 'teacher.coco/bbox_mAP': 0.4561})
    worse = with_maps(distill_run, str(tmp_path / 'worse'), **{'coco/bbox_mAP': 0.2411})
    partial = partial_copy(baseline_run, str(tmp_path / 'partial'))
    missing = str(tmp_path / 'missing')
    (tmp_path / 'missing').mkdir()
    table = repro.build_table([distilled, worse, partial, missing], baseline=baseline)
    assert [list(row) for row in table] == [repro.COLUMNS] * 5
    base, cwd, low, part, miss = table

    assert (base['method'], base['student'], base['teacher']) == ('baseline', 'GFL R18', '—')
    assert (base['student mAP'], base['Δ vs baseline']) == ('25.3', '+0.0')
    assert base['epochs'] == '1'
    assert (cwd['method'], cwd['teacher'], cwd['student']) == ('CWD', 'GFL R50', 'GFL R18')
    assert (cwd['student mAP'], cwd['teacher mAP'], cwd['Δ vs baseline']) == \
        ('31.3', '45.6', '+5.9')
    assert (low['student mAP'], low['Δ vs baseline']) == ('24.1', '-1.2')
    assert cwd['wall time'].endswith(' min')
    assert part['epochs'] == '1/2 (partial)'
    assert part['student mAP'] == part['Δ vs baseline'] == '—'
    assert miss['method'] == 'no logged run'
    assert all(miss[k] == '—' for k in repro.COLUMNS if k not in ('run', 'method'))


@pytest.mark.parametrize('config, method, teacher, student', [
    ('configs/reviewkd/reviewkd_fpn_gfl_digits.py', 'ReviewKD', 'GFL R50', 'GFL R18'),
    ('configs/dkd/dkd-reviewkd_faster-rcnn_digits.py', 'DKD+ReviewKD', 'FasterRCNN R50',
     'FasterRCNN R18'),
    ('configs/ld/ld_gfl_digits.py', 'LD', 'GFL R50', 'GFL R18'),
    ('benchmarks/configs/cwd_fpn_gfl_digits_mmrazor.py', 'CWD', 'GFL R50', 'GFL R18'),
    ('configs/ld/ld-mmdet_gfl_digits.py', 'LD (mmdet LDHead)', 'GFL R50', 'GFL R18'),
    ('configs/crosskd/crosskd_gfl_digits.py', 'CrossKD', 'GFL R50', 'GFL R18'),
])
def test_repro_table_names_methods_and_models(config, method, teacher, student):
    """Methods are named after the paper, not the loss class (HCL is ReviewKD, mmrazor's
    ChannelWiseDivergence is CWD); mmdet's own LD detector shows its teacher config's model
    and its GFL student."""
    from mmengine.config import Config
    repro = load_tool('tools/repro_table.py')
    cfg = Config.fromfile(osp.join(REPO, config))
    assert repro.describe_method(cfg) == method
    if 'architecture' in cfg.model:
        got = (repro.describe_model(cfg.model.teacher),
               repro.describe_model(cfg.model.architecture))
    else:
        got = (repro._mmdet_ld_teacher(cfg.model.teacher_config),
               repro.describe_model(cfg.model))
    assert got == (teacher, student)


def test_repro_table_cli_writes_markdown_and_csv(distill_run, baseline_run, tmp_path,
                                                 capsys):
    """The printed table has the documented header and the runs' own numbers; the CSV
    has the same columns and cells."""
    repro = load_tool('tools/repro_table.py')
    baseline = with_maps(baseline_run, str(tmp_path / 'baseline'),
                         **{'coco/bbox_mAP': 0.1025})
    distilled = with_maps(distill_run, str(tmp_path / 'cwd'),
                          **{'coco/bbox_mAP': 0.1398, 'teacher.coco/bbox_mAP': 0.2047})
    out_csv = tmp_path / 'table.csv'
    repro.main([distilled, '--baseline', baseline, '--csv', str(out_csv)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == '| ' + ' | '.join(repro.COLUMNS) + ' |'
    assert len(lines) == 4  # header, rule, baseline, cwd
    cells = [c.strip() for c in lines[3].strip('|').split('|')]
    assert cells[:7] == ['cwd', 'CWD', 'GFL R50', '20.5', 'GFL R18', '14.0', '+3.7']
    rows = list(csv.DictReader(out_csv.open()))
    assert out_csv.read_text().splitlines()[0] == ','.join(repro.COLUMNS)
    assert [r['Δ vs baseline'] for r in rows] == ['+0.0', '+3.7']


def test_repro_table_names_an_algorithm_method_with_its_losses():
    """CrossKD is an algorithm, not a distiller loss: CrossKD with PKD losses reads
    'CrossKD+PKD'."""
    from mmengine.config import Config
    repro = load_tool('tools/repro_table.py')
    cfg = Config.fromfile(osp.join(REPO, 'configs/crosskd/crosskd-pkd_gfl_r101-r50_1x_coco.py'))
    assert repro.describe_method(cfg) == 'CrossKD+PKD'
