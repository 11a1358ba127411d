"""tools/preflight.py: every COCO config takes real training steps on synthetic data.

    OMP_NUM_THREADS=1 pytest tests/tools/test_preflight.py                 # 320 px
    KD_MMDET_COCO_SCALE=1 pytest tests/tools/test_preflight.py -m coco_scale   # 1333 px
"""
import json
import os
import os.path as osp

import pytest
import torch

from tests.test_configs import CONFIGS
from tests.tools import REPO, load_tool

preflight = load_tool('tools/preflight.py')
plan_tool = load_tool('tools/plan.py')
COCO = [p for p in CONFIGS if p.endswith('_coco.py')]
PLAN_RUNS = plan_tool.plan_runs(plan_tool.load_plan(), toy=False)
FIELDS = {'row', 'config', 'ok', 'terms', 'input_shape', 'step_s', 'peak_mem_mb',
          'peak_mem_kind', 'teacher_share', 'val_metrics', 'precision', 'synthetic', 'error'}
# Cheapest COCO distillation config (GFL R101 -> R18) for the checks that must fail.
CWD = osp.join(REPO, 'configs', 'cwd', 'cwd_fpn_gfl_r101-r18_1x_coco.py')
TOY = osp.join(REPO, 'configs', 'cwd', 'cwd_fpn_gfl_digits.py')


@pytest.fixture(autouse=True, scope='module')
def threads_from_env():
    """Torch threads as OMP_NUM_THREADS says (conftest sets 2; a busy machine asks 1)."""
    before = torch.get_num_threads()
    if os.environ.get('OMP_NUM_THREADS', '').isdigit():
        torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
    yield
    torch.set_num_threads(before)


def run(config, **options):
    """The record of a synthetic preflight of one config."""
    return preflight.run_preflight([config], preflight.PreflightOptions(synthetic=True,
                                                                        **options))[0]


def assert_clean(record, config, shape):
    """ok, the input size asked for, finite terms with every distillation term > 0, a
    teacher share for distillation configs, and metrics from the evaluator."""
    assert record['ok'], record['error']
    assert record['error'] is None and record['input_shape'] == list(shape)
    terms = record['terms']
    assert terms and all(v == v and abs(v) != float('inf') for v in terms.values()), terms
    distill = {k: v for k, v in terms.items() if k.startswith('distill.')}
    if '/students/' in config:
        assert not distill and record['teacher_share'] is None
    else:
        assert distill and all(v > 0 or (v == 0 and preflight.zero_allowed(k))
                               for k, v in distill.items()), distill
        assert 0 < record['teacher_share'] < 1, record['teacher_share']
    assert record['step_s'] > 0 and record['peak_mem_mb'] > 0
    assert 'coco/bbox_mAP' in record['val_metrics'], record['val_metrics']
    assert preflight.SYNTHETIC_NOTE in record['notes']


def test_coco_configs_found():
    """The COCO configs are listed: about 40, the plan's eight among them."""
    assert len(COCO) >= 35
    assert {osp.join(REPO, r.config) for r in PLAN_RUNS} <= set(COCO)


@pytest.mark.slow
@pytest.mark.parametrize('config', COCO, ids=lambda p: osp.relpath(p, REPO))
def test_coco_config_takes_a_training_step(config):
    """One step at 320 x 192 (multi-scale pipelines too), then validation: every check
    passes (finite terms, distillation terms > 0, frozen and unchanged teacher,
    gradients in every student module and connector)."""
    assert_clean(run(config, scale=320, iters=1), config, (192, 320))


@pytest.mark.coco_scale
@pytest.mark.skipif(os.environ.get('KD_MMDET_COCO_SCALE') != '1',
                    reason='full COCO size: set KD_MMDET_COCO_SCALE=1 (a GPU, or a lot of time)')
@pytest.mark.parametrize('run_', PLAN_RUNS, ids=lambda r: f'{r.method}-{r.name}')
def test_plan_config_at_coco_scale(run_):
    """Two steps of each plan row and baseline at 1333 x 800 (padded 1344 x 800)."""
    config = osp.join(REPO, run_.config)
    record = run(config, scale=1333, iters=2)
    assert_clean(record, config, (800, 1344))
    assert record['row'] == run_.method


@pytest.mark.slow
def test_plan_preflight_writes_a_record_per_row(tmp_path, capsys):
    """`tools/plan.py --preflight --rows CWD DKD` writes their two records, every field
    filled, and prints the table."""
    out = tmp_path / 'preflight.json'
    code = plan_tool.main(['--preflight', '--synthetic', '--rows', 'CWD', 'DKD', '--json',
                           str(out), '--scale', '320'])
    assert code == 0, capsys.readouterr().err
    records = json.loads(out.read_text())
    assert [r['row'] for r in records] == ['CWD', 'DKD']
    for record in records:
        assert FIELDS <= set(record) and record['ok'] and record['synthetic']
        assert all(record[k] is not None for k in FIELDS - {'error'}), record
        assert record['precision'] == 'fp32' and record['peak_mem_kind'] == 'cpu-rss'
        assert 'optim wrapper: OptimWrapper' in record['notes']
    table = capsys.readouterr().out
    assert '| CWD |' in table and '| DKD |' in table


def test_plan_preflight_refuses_unknown_rows(capsys):
    """A --rows name that is not a method of the plan is refused, naming the methods."""
    assert plan_tool.main(['--preflight', '--synthetic', '--rows', 'CWX']) == 1
    assert "'CWX'" in capsys.readouterr().err


@pytest.mark.slow
def test_trainable_teacher_fails():
    """teacher_trainable=True: the teacher's parameters require grad, named."""
    record = run(CWD, scale=320, iters=1, cfg_options={'model.teacher_trainable': True})
    assert not record['ok']
    # The stem and layer1 are frozen (frozen_stages=1): layer2 is the first trainable.
    assert record['error'].startswith('step 1: teacher parameter backbone.layer2.0.conv1.weight '
                                      '(and 327 more) requires grad'), record['error']


@pytest.mark.slow
def test_teacher_parameter_left_trainable_fails(monkeypatch):
    """One teacher parameter with requires_grad after the build is found and named."""
    build_with(monkeypatch,
               lambda model: model.teacher.neck.fpn_convs[0].conv.weight.requires_grad_(True))
    record = run(CWD, scale=320, iters=1)
    assert not record['ok']
    assert record['error'] == ('step 1: teacher parameter neck.fpn_convs.0.conv.weight '
                               'requires grad'), record['error']


def build_with(monkeypatch, change):
    """``preflight.build_model`` followed by ``change(model)``, for this test."""
    build = preflight.build_model

    def build_and_change(cfg):
        model = build(cfg)
        change(model)
        return model

    monkeypatch.setattr(preflight, 'build_model', build_and_change)


@pytest.mark.slow
def test_teacher_changed_by_the_step_fails(monkeypatch):
    """A teacher tensor that moves during the steps is named."""
    def nudge(module, args):  # a forward pre-hook writing into the teacher's weights
        module.conv.bias.data.add_(1e-3)

    build_with(monkeypatch, lambda model: model.teacher.neck.lateral_convs[0]
               .register_forward_pre_hook(nudge))
    record = run(CWD, scale=320, iters=1)
    assert not record['ok']
    assert record['error'] == ('teacher tensor neck.lateral_convs.0.conv.bias changed '
                               'during 1 steps'), record['error']


@pytest.mark.slow
def test_student_module_without_gradient_fails(monkeypatch):
    """A student neck whose outputs are detached (before the recorders see them): the
    neck and the backbone below it get no gradient, both named."""
    def detach(module, args, outputs):
        return tuple(x.detach() for x in outputs)

    build_with(monkeypatch, lambda model: model.architecture.neck.register_forward_hook(
        detach, prepend=True))
    record = run(CWD, scale=320, iters=1)
    assert not record['ok']
    assert record['error'] == (
        'step 1: student backbone: no parameter has a non-zero gradient; step 1: student '
        'neck: no parameter has a non-zero gradient'), record['error']


@pytest.mark.slow
@pytest.mark.parametrize('value, message', [
    (float('nan'), 'loss term distill.loss_cwd_fpn2 is not finite (nan)'),
    (0.0, 'distillation term distill.loss_cwd_fpn2 is 0.0, not > 0: it distils nothing')])
def test_bad_distillation_term_fails(monkeypatch, value, message):
    """A NaN loss term, or a distillation term of 0, fails naming the term."""
    from kd_mmdet.models.losses.cwd_loss import CWDLoss
    forward = CWDLoss.forward
    calls = []

    def third_is_bad(self, preds_S, preds_T):  # P5: the third of the five levels
        loss = forward(self, preds_S, preds_T)
        calls.append(loss)
        return loss * value if len(calls) == 3 else loss

    monkeypatch.setattr(CWDLoss, 'forward', third_is_bad)
    record = run(CWD, scale=320, iters=1)
    assert not record['ok'] and record['error'] == f'step 1: {message}', record['error']


@pytest.mark.slow
def test_amp_runs_the_step_under_autocast():
    """--precision amp: a bf16 teacher and the step under kd_mmdet.AutocastOptimWrapper."""
    record = run(CWD, scale=320, iters=1, precision='amp')
    assert_clean(record, CWD, (192, 320))
    assert "teacher_precision='bf16'" in record['notes']
    assert 'optim wrapper: AutocastOptimWrapper (bfloat16)' in record['notes']


def test_missing_data_fails_naming_the_key_and_path(tmp_path, monkeypatch):
    """Without --synthetic the data paths are checked before anything is built."""
    monkeypatch.chdir(tmp_path)  # the config's data/coco/ is relative: not there
    record = preflight.run_preflight([CWD], preflight.PreflightOptions())[0]
    assert not record['ok'] and not record['synthetic']
    assert record['error'] == (
        "config: PreflightError: train_dataloader.dataset.ann_file: "
        "'data/coco/annotations/instances_train2017.json' does not exist (pass --synthetic "
        "to run on generated data)")


def test_bf16_teacher_needs_a_teacher_precision_argument():
    """A model with a teacher but without teacher_precision (mmdet's LD detector) is
    refused with a message naming the argument, not run in fp32 silently."""
    from mmengine.config import Config
    cfg = Config(dict(default_scope='mmdet', optim_wrapper=dict(type='OptimWrapper'),
                      model=dict(type='KnowledgeDistillationSingleStageDetector',
                                 teacher_config='teacher.py')))
    import mmdet.models  # noqa: F401  registers mmdet's detectors
    with pytest.raises(preflight.PreflightError, match='no teacher_precision argument'):
        preflight.apply_precision(cfg, 'bf16t', 'cpu')


def test_resize_scales_are_all_set():
    """--scale reaches Resize, each scale of a multi-scale step, and nested transforms."""
    pipeline = [dict(type='Resize', scale=(1333, 800), keep_ratio=True),
                dict(type='RandomChoiceResize', scales=[(1333, 640), (1333, 800)]),
                dict(type='RandomChoice', transforms=[[dict(type='RandomResize',
                                                            scale=[(1333, 480), (1333, 800)])]])]
    assert preflight.pipeline_scale(pipeline) == (1333, 800)
    assert preflight.set_resize_scale(pipeline, (320, 192)) == 3
    assert pipeline[0]['scale'] == (320, 192)
    assert pipeline[1]['scales'] == [(320, 192)] * 2
    assert pipeline[2]['transforms'][0][0]['scale'] == [(320, 192)] * 2


def test_synthetic_set_is_coco_like(tmp_path):
    """80 classes with ids 1..80, 1-15 boxes inside each image, one empty image per split."""
    preflight.make_synthetic_coco(str(tmp_path), 4, 2, (320, 192))
    for split, images in (('train', 5), ('val', 2)):
        ann = json.loads((tmp_path / 'annotations' / f'{split}.json').read_text())
        assert [c['id'] for c in ann['categories']] == list(range(1, 81))
        assert len(ann['images']) == images
        counts = [sum(a['image_id'] == i['id'] for a in ann['annotations'])
                  for i in ann['images']]
        assert counts[-1] == 0 and all(1 <= c <= 15 for c in counts[:-1])
        for a in ann['annotations']:
            x, y, w, h = a['bbox']
            assert x >= 0 and y >= 0 and x + w <= 320 and y + h <= 192 and w > 1 and h > 1


def save_random_teacher(path, drop=None, reshape=None):
    """The toy CWD config's teacher, built at random, saved as a checkpoint; ``drop``
    deletes a key, ``reshape`` replaces one with a tensor of another shape."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(TOY)
    init_default_scope(cfg.default_scope)
    state = MODELS.build(cfg.model.teacher).state_dict()
    if drop:
        del state[drop]
    if reshape:
        state[reshape] = torch.zeros(3, 3)
    torch.save(dict(state_dict=state), path)
    return len(state)


def test_check_teacher_accepts_a_matching_checkpoint(tmp_path, capsys):
    """A checkpoint of the teacher itself: `OK: N tensors match`, exit 0."""
    ckpt = str(tmp_path / 'teacher.pth')
    count = save_random_teacher(ckpt)
    assert preflight.main([TOY, '--check-teacher', ckpt]) == 0
    assert capsys.readouterr().out.strip() == f'OK: {count} tensors match'


def test_check_teacher_lists_missing_and_reshaped_keys(tmp_path, capsys):
    """A key deleted and one reshaped: both named, with the shapes, exit 1."""
    ckpt = str(tmp_path / 'teacher.pth')
    save_random_teacher(ckpt, drop='bbox_head.gfl_cls.bias', reshape='neck.fpn_convs.0.conv.weight')
    assert preflight.main([TOY, '--check-teacher', ckpt]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert ('missing key (in the teacher, not in the checkpoint): bbox_head.gfl_cls.bias'
            in lines)
    assert any(line.startswith('shape mismatch: neck.fpn_convs.0.conv.weight: checkpoint '
                               '(3, 3) vs model (128, 128, 3, 3)') for line in lines), lines
    assert lines[-1].startswith('MISMATCH: 1 missing, 0 unexpected, 1 shape mismatches')
