import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
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
