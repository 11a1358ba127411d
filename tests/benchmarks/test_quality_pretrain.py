"""benchmarks/quality.py's pretraining stage: classifier configs, checkpoint loading into
the detection configs with mmdet's ImageNet recipe, and the quick mode end to end."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from benchmarks import quality

REPO = quality.REPO
TOY = {'teacher': 'configs/toy/gfl_teacher_digits.py',
       'student': 'configs/toy/gfl_student_digits.py'}


def _plain(d):
    return {k: (_plain(v) if isinstance(v, dict) else v) for k, v in d.items()}


@pytest.mark.parametrize('role', ['teacher', 'student'])
def test_pretrain_classifier_has_the_detectors_backbone(role):
    """The classifier's backbone is the detectors' ResNet of that role, so its weights load
    into both detection pairs (only the outputs and the from-scratch init differ)."""
    _, config = quality.BACKBONES[role]
    backbone = _plain(Config.fromfile(osp.join(REPO, config)).model.backbone)
    assert backbone.pop('type') == 'mmdet.ResNet'
    assert backbone.pop('out_indices') == (3, )
    for det in (TOY[role], TOY[role].replace('gfl', 'faster-rcnn')):
        want = _plain(Config.fromfile(osp.join(REPO, det)).model.backbone)
        assert want.pop('type') == 'ResNet'
        want.pop('out_indices')
        assert backbone == want


def _build(cfg_path, scope='mmdet', teacher_ckpt=None):
    cfg = Config.fromfile(cfg_path)
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = teacher_ckpt
    init_default_scope(scope)
    from mmrazor.registry import MODELS
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('config,path', [
    ('configs/toy/gfl_student_digits.py', 'backbone'),
    ('configs/cwd/cwd_fpn_gfl_digits.py', 'architecture.backbone'),
    ('configs/ld/ld-mmdet_gfl_digits.py', 'backbone'),
])
def test_pretrained_config_loads_the_classifier_into_the_trained_backbone(
        tmp_path, config, path):
    """Every backbone tensor equals the classifier's after init_weights; stage 1 and the
    stem are frozen, BN statistics stay fixed in train mode; a distillation teacher is not
    touched."""
    torch.manual_seed(0)
    classifier = _build(osp.join(REPO, quality.BACKBONES['student'][1]), 'mmpretrain')
    ckpt = str(tmp_path / 'cls.pth')
    torch.save({'state_dict': classifier.state_dict()}, ckpt)
    wrapper = quality.write_pretrained_config(config, ckpt, str(tmp_path / 'cfg.py'))
    model = _build(wrapper)
    teacher_before = None
    if hasattr(model, 'teacher'):  # a distiller: its teacher comes from teacher_ckpt
        teacher_before = model.teacher.state_dict()
        torch.save({'state_dict': teacher_before}, str(tmp_path / 'teacher.pth'))
        model = _build(wrapper, teacher_ckpt=str(tmp_path / 'teacher.pth'))
    model.init_weights()
    backbone = model
    for key in path.split('.'):
        backbone = getattr(backbone, key)
    want = {k[len('backbone.'):]: v for k, v in classifier.state_dict().items()
            if k.startswith('backbone.')}
    got = backbone.state_dict()
    assert set(got) == set(want)
    for k, v in want.items():
        torch.testing.assert_close(got[k], v, rtol=0, atol=0, msg=k)
    assert not any(p.requires_grad for p in backbone.layer1.parameters())
    assert not backbone.conv1.weight.requires_grad
    assert all(p.requires_grad for p in backbone.layer2.parameters())
    model.train()
    assert not backbone.layer3[0].bn1.training
    if teacher_before is not None:
        for k, v in model.teacher.state_dict().items():
            torch.testing.assert_close(v, teacher_before[k], rtol=0, atol=0)


def test_pretrained_override_refuses_what_it_cannot_load():
    with pytest.raises(ValueError, match='no model.backbone'):
        quality.pretrained_override(dict(type='X'), 'c.pth')
    with pytest.raises(ValueError, match='model.architecture.backbone is SwinTransformer'):
        quality.pretrained_override(
            dict(architecture=dict(backbone=dict(type='SwinTransformer'))), 'c.pth')


@pytest.mark.slow
def test_quick_mode_pretrains_loads_and_reports(tmp_path):
    """`quality.py --quick` for one detection method: both backbones pretrained (with a
    top-1 curve), the teacher with its mAP curve, baseline and method from the pretrained
    student backbone, every detection run scored on the test split; results.json keeps
    one record per run; a second call trains and tests nothing."""
    root = str(tmp_path / 'bench')
    cmd = [sys.executable, 'benchmarks/quality.py', '--quick', '--tasks', 'det',
           '--methods', 'cwd_fpn', '--work-root', root]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    with open(osp.join(root, 'results.json')) as f:
        data = json.load(f)
    by = {r['name']: r for r in data['results']}
    for name, _ in quality.BACKBONES.values():
        assert by[name]['role'] == 'pretrain' and by[name]['value'] is not None
        assert [epoch for epoch, _ in by[name]['curve']] == [1]
    teacher = by['gfl_teacher']
    assert teacher['curve'] and teacher['curve'][-1][1] * 100 == pytest.approx(
        teacher['val_value'])
    for name in ('gfl_teacher', 'gfl_student', 'cwd_fpn'):
        # scored on the test split: the value is the test pass's, not the validation's
        assert by[name]['split'] == 'test' and by[name]['value'] is not None
        metrics = json.load(open(osp.join(by[name]['work_dir'], 'test_metrics.json')))
        assert by[name]['value'] == pytest.approx(100 * metrics['coco/bbox_mAP'])
        assert 'instances_test.json' in open(
            osp.join(by[name]['work_dir'], 'bench_test.log')).read()
    for name in ('gfl_student', 'cwd_fpn'):
        # --precision auto: amp only where bf16 is native
        assert by[name]['precision'] == quality.auto_precision()
        log = open(osp.join(by[name]['work_dir'], 'bench_train.log')).read()
        ckpt = osp.join(root, 'pretrain', quality.BACKBONES['student'][0], 'epoch_1.pth')
        assert f'load backbone. in model from: {ckpt}' in log
        assert 'configs/' + name in by[name]['command']
    report = open(osp.join(root, 'report.md')).read()
    assert '## Backbone pretraining' in report and '## Teachers' in report
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and '[quality] OMP' not in again.stdout


def _opts(config, factor):
    model = Config.fromfile(osp.join(REPO, config)).model
    return dict(o.split('=') for o in quality.distill_weight_options(model, factor)), model


def test_sweep_scales_every_distillation_weight_and_nothing_else():
    """FGD's α, β, γ, λ and LD's three weights are scaled; MGD's mask ratio and every
    temperature are kept; CrossKD's top-level losses are found; a config without a
    distillation weight is refused."""
    opts, model = _opts('configs/fgd/fgd_fpn_gfl_digits.py', 10)
    losses = model.distiller.distill_losses
    assert len(opts) == 4 * len(losses)
    for name, loss in losses.items():
        for key in ('alpha_fgd', 'beta_fgd', 'gamma_fgd', 'lambda_fgd'):
            got = float(opts[f'model.distiller.distill_losses.{name}.{key}'])
            assert got == pytest.approx(loss[key] * 10)
    opts, _ = _opts('configs/mgd/mgd_fpn_gfl_digits.py', 0.1)
    assert opts and all(k.endswith('.alpha_mgd') for k in opts)
    opts, _ = _opts('configs/ld/ld_gfl_digits.py', 3)
    assert {k.rsplit('.', 1)[1]: float(v) for k, v in opts.items()} == pytest.approx(
        dict(loss_weight=0.75, vlr_weight=0.75, kd_weight=3.75))
    opts, model = _opts('configs/crosskd/crosskd_gfl_digits.py', 0.1)
    assert float(opts['model.loss_reg_kd.loss_weight']) == pytest.approx(
        model.loss_reg_kd.loss_weight * 0.1)
    assert not any('temperature' in k or 'tau' in k for k in opts)
    with pytest.raises(ValueError, match='no distillation loss weight'):
        quality.distill_weight_options(Config.fromfile(
            osp.join(REPO, 'configs/toy/gfl_student_digits.py')).model, 10)


def test_sweep_keys_scale_only_those_weights():
    """--sweep-keys kd_weight scales LD's class-KD term and keeps main and VLR; a key
    the config lacks or the sweep does not know is refused by name."""
    model = Config.fromfile(osp.join(REPO, 'configs/ld/ld_gfl_digits.py')).model
    opts = quality.distill_weight_options(model, 0.125, ['kd_weight'])
    loss = model.distiller.distill_losses.loss_ld
    assert opts == [f'model.distiller.distill_losses.loss_ld.kd_weight={loss.kd_weight / 8!r}']
    with pytest.raises(ValueError, match='looked for alpha_fgd'):
        quality.distill_weight_options(model, 2, ['alpha_fgd'])
    with pytest.raises(ValueError, match="unknown sweep keys \\['tau'\\]"):
        quality.distill_weight_options(model, 2, ['tau'])
    with pytest.raises(SystemExit, match='--sweep-seeds'):
        quality.main(['--sweep', '2', '--sweep-seeds', '5', '--seeds', '0', '--dry-run'])


def test_sweep_rows_put_the_methods_own_run_at_x1():
    res = [dict(name='gfl_student', role='baseline', pair='gfl', seed=0, value=20.0),
           dict(name='fgd', role='method', pair='gfl', seed=0, value=18.0),
           dict(name='fgd', role='method', pair='gfl', seed=1, value=99.0),
           dict(name='fgd_x0.1', base_name='fgd', role='sweep', pair='gfl', seed=0,
                factor=0.1, value=21.0),
           dict(name='fgd_x10', base_name='fgd', role='sweep', pair='gfl', seed=0,
                factor=10.0, value=15.0),
           dict(name='mgd_x10', base_name='mgd', role='sweep', pair='gfl', seed=0,
                factor=10.0, value=None, status='not run'),
           dict(name='gfl_student', role='baseline', pair='gfl', seed=1, value=22.0),
           dict(name='fgd_alpha_fgd_x0.1', base_name='fgd', role='sweep', pair='gfl', seed=1,
                factor=0.1, value=23.0, swept='alpha_fgd')]
    rows, factors = quality.sweep_rows([dict(r, precision='amp') for r in res], 'amp')
    assert factors == [0.1, 1.0, 10.0]
    assert rows == [['fgd', '0', '20.0', '21.0', '18.0', '15.0'],
                    ['fgd (alpha_fgd)', '1', '22.0', '23.0', '99.0', quality.MISSING]]
