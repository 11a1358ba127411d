import contextlib
import copy
import logging
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOY = Config.fromfile(osp.join(REPO, 'configs/cwd/cwd_fpn_gfl_digits.py'))


def algorithm_cfg(**overrides):
    cfg = copy.deepcopy(TOY.model)
    cfg.update(type='kd_mmdet.SingleTeacherDistill', teacher_ckpt=None)
    cfg.distiller.type = 'kd_mmdet.ConfigurableDistiller'
    cfg.update(overrides)
    return cfg


def build(**overrides):
    init_default_scope('mmrazor')
    return MODELS.build(algorithm_cfg(**overrides))


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """A checkpoint of the toy teacher, as mmengine's Runner writes it."""
    torch.manual_seed(0)
    model = build()
    path = str(tmp_path_factory.mktemp('t') / 'teacher.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=model.teacher.state_dict()), path)
    return path, model.teacher.state_dict()


def test_teacher_checkpoint_loaded_exactly(teacher_ckpt):
    """Every teacher tensor equals the checkpoint's after construction."""
    path, expected = teacher_ckpt
    model = build(teacher_ckpt=path)
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, expected[name]), name


def test_missing_teacher_checkpoint_fails_at_build(tmp_path):
    """A path that does not exist raises before any training, naming the argument."""
    with pytest.raises(FileNotFoundError, match='teacher_ckpt .*nope.pth'):
        build(teacher_ckpt=str(tmp_path / 'nope.pth'))


def test_checkpoint_of_another_model_is_refused(tmp_path):
    """A student checkpoint given as teacher: missing keys and shape mismatches named."""
    model = build()
    path = str(tmp_path / 'student.pth')
    torch.save(dict(state_dict=model.student.state_dict()), path)
    with pytest.raises(ValueError, match=r'does not match the teacher.*missing keys.*'
                                         r'shape mismatches'):
        build(teacher_ckpt=path)


def test_distillation_checkpoint_as_teacher_points_to_export(tmp_path):
    """Keys prefixed `architecture.` get a hint to export the student first."""
    model = build()
    path = str(tmp_path / 'distill.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    with pytest.raises(ValueError, match='export_student'):
        build(teacher_ckpt=path)


def test_non_strict_loading_accepts_partial_checkpoint(tmp_path, teacher_ckpt):
    """teacher_ckpt_strict=False loads what matches and leaves the rest."""
    _, state = teacher_ckpt
    partial = {k: v for k, v in state.items() if k.startswith('backbone.')}
    path = str(tmp_path / 'partial.pth')
    torch.save(dict(state_dict=partial), path)
    model = build(teacher_ckpt=path, teacher_ckpt_strict=False)
    key = 'backbone.conv1.weight'
    assert torch.equal(model.teacher.state_dict()[key], state[key])


def test_inherit_copies_matching_tensors_only():
    """Student modules named in inherit_from_teacher start from the teacher's weights."""
    same_pair = algorithm_cfg(inherit_from_teacher=('neck', 'bbox_head'))
    same_pair.architecture = copy.deepcopy(same_pair.teacher)
    same_pair.distiller.connectors = None
    same_pair.distiller.loss_forward_mappings = {
        k: dict(preds_S={a: b for a, b in v.preds_S.items() if a != 'connector'},
                preds_T=v.preds_T)
        for k, v in same_pair.distiller.loss_forward_mappings.items()}
    init_default_scope('mmrazor')
    model = MODELS.build(same_pair)
    model.init_weights()
    s, t = model.student.state_dict(), model.teacher.state_dict()
    assert all(torch.equal(s[k], t[k]) for k in s if k.startswith(('neck.', 'bbox_head.')))
    assert not torch.equal(s['backbone.conv1.weight'], t['backbone.conv1.weight'])


def test_inherit_skips_other_shapes():
    """Across widths, only same-shape tensors (GFL's per-level scales) are copied."""
    model = build(inherit_from_teacher=('bbox_head',))
    model.init_weights()
    s, t = model.student.state_dict(), model.teacher.state_dict()
    assert torch.equal(s['bbox_head.scales.0.scale'], t['bbox_head.scales.0.scale'])
    assert s['bbox_head.gfl_cls.weight'].shape != t['bbox_head.gfl_cls.weight'].shape


def test_inherit_unknown_module_fails_at_build():
    with pytest.raises(ValueError, match="inherit_from_teacher names 'nekc'"):
        build(inherit_from_teacher=('nekc',))


# ---- dry-run shape check ------------------------------------------------------------
def without_connectors(cfg):
    cfg.distiller.connectors = None
    for mapping in cfg.distiller.loss_forward_mappings.values():
        mapping.preds_S.pop('connector')
    return cfg


def test_missing_connector_fails_at_build_with_both_shapes():
    """64-channel student FPN vs 128-channel teacher FPN, no connector: build fails."""
    with pytest.raises(ValueError, match=r"SingleTeacherDistill: loss_cwd_fpn0 \(CWDLoss\) "
                                         r"needs preds_S and preds_T of one shape, but would "
                                         r"get preds_S = student 'fpn'\[0\] \(1, 64, 8, 8\) "
                                         r"and preds_T = teacher 'fpn'\[0\] "
                                         r"\(1, 128, 8, 8\)"):
        init_default_scope('mmrazor')
        MODELS.build(without_connectors(algorithm_cfg()))


@contextlib.contextmanager
def captured_log():
    """The messages MMLogger's current instance logs inside the block."""
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def messages(records, level):
    return [r.getMessage() for r in records if r.levelno == level]


def test_check_shapes_false_skips_the_dry_run():
    """The opt-out builds the mis-paired model without a dry run (nothing checked is
    logged); its first training step then fails in the loss, on the shapes the dry run
    would have named."""
    init_default_scope('mmrazor')
    with captured_log() as records:
        model = MODELS.build(without_connectors(algorithm_cfg(check_shapes=False)))
    assert not any('shapes checked' in m for m in messages(records, logging.INFO))
    model.train()
    with pytest.raises(ValueError, match=r'CWDLoss.*\(2, 64, 12, 12\).*\(2, 128, 12, 12\)'):
        model(**toy_batch(model), mode='loss')


@pytest.fixture(scope='module')
def unchecked():
    """The toy CWD model, built without the dry run."""
    return build(check_shapes=False)


@pytest.mark.parametrize('role', ['student', 'teacher'])
def test_dry_run_forward_failure_warns_and_builds(role, unchecked, monkeypatch):
    """A model whose tensor-mode forward raises is logged as unchecked (a warning that
    names the role, the model and the error), the check returns without raising, no
    shape is claimed checked, and modes and recorder buffers are restored. (That a
    checked build logs what it checked is asserted for every toy config in
    tests/test_configs.py.)"""
    model = unchecked
    model.train()
    modes = [m.training for m in model.modules()]

    def broken(*args, **kwargs):
        raise RuntimeError('no tensor mode here')

    # BaseDetector.forward(mode='tensor') calls _forward.
    monkeypatch.setattr(getattr(model, role), '_forward', broken)
    with captured_log() as records:
        model.check_distill_shapes()
    warnings = messages(records, logging.WARNING)
    assert warnings == [f"SingleTeacherDistill: shape check skipped: the {role} (GFL) fails "
                        "a tensor-mode forward of a (1, 3, 64, 64) zero input "
                        "(RuntimeError('no tensor mode here'))"]
    assert not any('shapes checked' in m for m in messages(records, logging.INFO))
    assert [m.training for m in model.modules()] == modes
    recorders = [*model.distiller.student_recorders.recorders.values(),
                 *model.distiller.teacher_recorders.recorders.values()]
    assert all(r.data_buffer == [] for r in recorders)


def test_wrong_connector_and_level_index_fail_at_build():
    """A connector of the wrong width and a level the FPN does not have are named."""
    bad_connector = algorithm_cfg()
    bad_connector.distiller.connectors.fpn2.in_channel = 32
    with pytest.raises(ValueError, match=r"connector 'fpn2' \(ConvModuleConnector\) fails "
                                         r"on student 'fpn'\[2\] \(1, 64, 2, 2\)"):
        init_default_scope('mmrazor')
        MODELS.build(bad_connector)
    bad_level = algorithm_cfg()
    bad_level.distiller.loss_forward_mappings.loss_cwd_fpn4.preds_T.data_idx = 5
    with pytest.raises(ValueError, match=r"\['loss_cwd_fpn4'\]\['preds_T'\] = teacher "
                                         r"'fpn'\[5\]: data_idx is illegal"):
        init_default_scope('mmrazor')
        MODELS.build(bad_level)


def test_dry_run_changes_no_state():
    """Weights, BN statistics, train/eval modes, random state and recorders: untouched."""
    model = build(check_shapes=False)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    rng = torch.get_rng_state()
    model.check_distill_shapes()
    assert torch.equal(torch.get_rng_state(), rng)
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    recorders = [*model.distiller.student_recorders.recorders.values(),
                 *model.distiller.teacher_recorders.recorders.values()]
    assert all(r.data_buffer == [] for r in recorders)


def test_dry_run_with_checks_builds_the_same_model():
    """Seeded builds with and without the check give identical weights."""
    torch.manual_seed(3)
    checked = build(check_shapes=True).state_dict()
    torch.manual_seed(3)
    unchecked = build(check_shapes=False).state_dict()
    assert all(torch.equal(v, unchecked[k]) for k, v in checked.items())


# ---- teacher left out of checkpoints ------------------------------------------------
def teacher_keys(state_dict):
    return [k for k in state_dict if k.startswith('teacher.')]


def test_teacher_left_out_of_state_dict_by_default(teacher_ckpt):
    """A frozen teacher rebuilt from teacher_ckpt is not saved; save_teacher keeps it."""
    path, expected = teacher_ckpt
    state = build(teacher_ckpt=path).state_dict()
    assert teacher_keys(state) == [] and any(k.startswith('architecture.') for k in state)
    assert any(k.startswith('distiller.connectors.') for k in state)
    kept = build(teacher_ckpt=path, save_teacher=True).state_dict()
    assert len(teacher_keys(kept)) == len(expected)


@pytest.mark.parametrize('overrides', [dict(teacher_ckpt=None),
                                       dict(teacher_trainable=True),
                                       dict(teacher_norm_eval=False)])
def test_teacher_saved_when_teacher_ckpt_cannot_rebuild_it(teacher_ckpt, overrides):
    """No teacher_ckpt, a trained teacher or moving BN statistics: the teacher is saved."""
    overrides = dict(dict(teacher_ckpt=teacher_ckpt[0]), **overrides)
    assert teacher_keys(build(**overrides).state_dict())


def test_teacher_less_state_dict_loads_strictly_and_keeps_teacher_ckpt(teacher_ckpt):
    """Loading a checkpoint without teacher keys: strict load works, teacher unchanged."""
    path, expected = teacher_ckpt
    model = build(teacher_ckpt=path)
    state = {k: v.clone() for k, v in model.state_dict().items()
             if not k.startswith('teacher.')}
    state['architecture.backbone.conv1.weight'].fill_(0.5)
    model.load_state_dict(state, strict=True)
    assert (model.student.backbone.conv1.weight == 0.5).all()
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, expected[name]), name


def test_teacher_less_state_dict_without_teacher_ckpt_reports_missing_keys():
    """Nothing can fill the teacher then: a strict load names its keys as missing."""
    model = build()
    state = {k: v for k, v in model.state_dict().items() if not k.startswith('teacher.')}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\)[^"]*"teacher\.backbone'):
        model.load_state_dict(state, strict=True)


# ---- how much of the teacher runs -----------------------------------------------------
def toy_batch(model, seed=0):
    """Two 96 px images with one box each, preprocessed for a training step."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for box in ([10., 12., 50., 60.], [30., 20., 90., 70.]):
        sample = DetDataSample(metainfo=dict(img_shape=(96, 96), ori_shape=(96, 96),
                                             scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor([box]),
                                           labels=torch.tensor([3]))
        samples.append(sample)
    images = [torch.randint(0, 256, (3, 96, 96), dtype=torch.uint8, generator=gen)
              for _ in samples]
    return model.data_preprocessor(dict(inputs=images, data_samples=samples), True)


def same_losses(got, expected):
    """Equal keys and tensors (GFL's task losses are lists over the levels)."""
    assert set(got) == set(expected)
    for key, value in expected.items():
        values = value if isinstance(value, list) else [value]
        others = got[key] if isinstance(got[key], list) else [got[key]]
        assert all(torch.equal(a, b) for a, b in zip(others, values, strict=True)), key


def test_teacher_forward_modes_skip_the_head_and_keep_the_losses():
    """CWD on the FPN: 'auto' resolves to 'feat', whose step never runs the teacher's
    head; 'feat' and 'tensor' give exactly the losses of mmrazor's loss-mode step."""
    torch.manual_seed(0)
    model = build()
    assert model.teacher_forward == 'feat'
    calls = []
    model.teacher.bbox_head.register_forward_hook(lambda *args: calls.append(1))
    model.train()
    data = toy_batch(model)
    model.teacher_forward = 'loss'
    expected = model(**data, mode='loss')
    assert calls == [1]
    model.teacher_forward = 'feat'
    same_losses(model(**data, mode='loss'), expected)
    assert calls == [1]
    model.teacher_forward = 'tensor'
    same_losses(model(**data, mode='loss'), expected)


@pytest.mark.parametrize('config', ['configs/cwd/cwd_cls-head_gfl_digits.py',
                                    'configs/ld/ld_gfl_digits.py'])
def test_auto_keeps_loss_mode_for_head_recorders(config):
    """Recorders on the teacher's head: 'auto' keeps mmrazor's full forward."""
    cfg = copy.deepcopy(Config.fromfile(osp.join(REPO, config)).model)
    cfg.teacher_ckpt = None
    init_default_scope('mmrazor')
    assert MODELS.build(cfg).teacher_forward == 'loss'


def test_bad_teacher_forward_rejected():
    """An unknown mode, and a loss-free mode for a trainable teacher, fail at build."""
    with pytest.raises(ValueError, match="teacher_forward must be one of .*'fast'"):
        build(teacher_forward='fast')
    with pytest.raises(ValueError, match="teacher_forward='feat' computes no teacher loss"):
        build(teacher_forward='feat', teacher_trainable=True)
    assert build(teacher_trainable=True).teacher_forward == 'loss'
