"""Every config in configs/ parses and builds its model (teachers' weights not loaded)."""
import glob
import re
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
                 if '/_base_/' not in p)
TOY = [p for p in CONFIGS if p.endswith('_digits.py') and '/configs/cls/' not in p]
# Classification (mmpretrain) configs: batches of DataSample, and where each pair's teacher
# checkpoint comes from (a zoo URL, or the work dir of our own teacher config).
CLS_TOY = [p for p in CONFIGS if p.endswith('_digits.py') and '/configs/cls/' in p]
CLS_TEACHER_CKPT = {'_in1k.py': 'https://download.openmmlab.com/mmclassification/',
                    '_cifar100.py': 'work_dirs/cls_resnet32x4_cifar100/',
                    '_digits.py': 'work_dirs/cls_resnet20_digits/'}


def build(path):
    cfg = Config.fromfile(path)
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None  # never download in tests
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return cfg, MODELS.build(cfg.model)


def test_configs_found():
    assert len(CONFIGS) >= 10 and len(TOY) >= 6


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_config_builds(path):
    """The model is constructed; distillers get their teacher, student and losses."""
    cfg, model = build(path)
    assert cfg.custom_imports.imports == ['kd_mmdet']
    if cfg.model.get('type', '').endswith('SingleTeacherDistill'):
        losses = cfg.model.distiller.distill_losses
        assert losses and all('loss' in name for name in losses)
        assert set(losses) == set(cfg.model.distiller.loss_forward_mappings)
        assert cfg.val_cfg.type.endswith('SingleTeacherDistillValLoop')
        assert model.teacher is not None and model.architecture is not None
        if '/configs/cls/' in path:
            suffix = next(k for k in CLS_TEACHER_CKPT if path.endswith(k))
            assert cfg.model.teacher_ckpt is None  # build() cleared it; the file names:
            assert Config.fromfile(path).model.teacher_ckpt.startswith(CLS_TEACHER_CKPT[suffix])
        elif not path.endswith('_digits.py'):
            assert cfg.teacher_ckpt.startswith('https://download.openmmlab.com/mmdetection/')
        # The pair in the file name is the pair that gets built (e.g. `_r101-r18_`).
        pair = re.search(r'_[rx](\d+)[^-_]*-r(\d+)_', osp.basename(path))
        if pair:
            assert model.teacher.backbone.depth == int(pair.group(1))
            assert model.architecture.backbone.depth == int(pair.group(2))


@pytest.mark.parametrize('path', TOY, ids=lambda p: osp.relpath(p, REPO))
def test_toy_config_runs_a_loss_step(path):
    """One training forward on a random batch gives finite losses (every distill term)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    cfg, model = build(path)
    model.train()
    sample = DetDataSample(metainfo=dict(img_shape=(96, 96), pad_shape=(96, 96),
                                         batch_input_shape=(96, 96), scale_factor=(1, 1)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[10., 12., 50., 60.]]),
                                       labels=torch.tensor([3]))
    # Two images: BatchNorm in ReviewKD's deepest ABF sees a 1x1 map at 96 px.
    data = dict(inputs=[torch.randint(0, 255, (3, 96, 96), dtype=torch.uint8)] * 2,
                data_samples=[sample, sample.clone()])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    for name, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        assert all(torch.isfinite(v).all() for v in values), name
    for n in cfg.model.get('distiller', {}).get('distill_losses', {}):
        # A dict-valued loss (FGD, DKD) is logged as <name>_<term>.
        assert any(k == f'distill.{n}' or k.startswith(f'distill.{n}_') for k in losses), n


@pytest.mark.parametrize('path', CLS_TOY, ids=lambda p: osp.relpath(p, REPO))
def test_cls_toy_config_runs_a_loss_step(path):
    """One training forward of a classification toy config gives finite losses, every
    distillation term among them, and a backward pass reaches the student."""
    from mmpretrain.structures import DataSample
    cfg, model = build(path)
    model.train()
    data = dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)] * 4,
                data_samples=[DataSample().set_gt_label(i) for i in (0, 3, 5, 9)])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert all(torch.isfinite(v).all() for v in losses.values()), losses
    for n in cfg.model.get('distiller', {}).get('distill_losses', {}):
        assert f'distill.{n}' in losses, n
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    student = model.architecture if hasattr(model, 'architecture') else model
    assert student.backbone.conv1.weight.grad.abs().sum() > 0
