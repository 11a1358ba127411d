"""Every config in configs/ parses and builds its model (teachers' weights not loaded)."""
import contextlib
import glob
import logging
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
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


@contextlib.contextmanager
def captured_log():
    """The messages MMLogger's current instance logs inside the block."""
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(record.getMessage())
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def distill_terms_reach_the_student(losses, student, names):
    """Each named term, with a random teacher, is > 0 (LogSum, a logarithm: != 0) and
    has a non-zero gradient on some student parameter. A term that is always 0 (student
    and teacher read from one recorder, an empty region, a zero weight, a detached
    input) fails."""
    params = [p for p in student.parameters() if p.requires_grad]
    for name in names:
        value = losses[name]
        assert value.ndim == 0 and torch.isfinite(value), name
        assert value != 0 if 'logsum' in name else value > 0, (name, value)
        grads = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
        assert any(g is not None and g.abs().sum() > 0 for g in grads), name


def dry_run_checks(cfg):
    """Whether construction has recorded shapes to compare: a distillation loss of the
    config declares ``same_shape_inputs`` (the losses say so themselves; FGD aligns the
    student's channels inside its loss, LD's head loss takes per-level lists, CrossKD's
    and BLD's terms are their algorithm's)."""
    from mmrazor.registry import MODELS as RAZOR_MODELS
    losses = cfg.model.get('distiller', {}).get('distill_losses', {}).values()
    return any(getattr(RAZOR_MODELS.get(loss['type']), 'same_shape_inputs', None)
               for loss in losses)


def dry_run_logged(cfg, log):
    """Whether construction logged `<Algorithm>: recorded shapes checked on ...`."""
    name = cfg.model.type.split('.')[-1]
    return any(m.startswith(f'{name}: recorded shapes checked on a (1, 3, 64, 64) zero '
                            'input') for m in log)


@pytest.mark.parametrize('path', TOY, ids=lambda p: osp.relpath(p, REPO))
def test_toy_config_runs_a_loss_step(path):
    """One training forward on a random batch: finite losses, every distill term among
    them, each > 0 with a gradient that reaches the student; a distillation model logs
    at construction that its recorded shapes were checked where a loss declares shapes
    to compare (``dry_run_checks``)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    with captured_log() as log:
        cfg, model = build(path)
    if 'distiller' in cfg.model:
        assert dry_run_logged(cfg, log) == dry_run_checks(cfg), log
    model.train()
    # 288 px: P7 (stride 128) is 3x3. At the digits' 96 px it is 1x1, where CWD's spatial
    # softmax over one position is 1 for any map (its term always 0); at 2x2 FGD's box
    # mask (official: cells floor(x1)..ceil(x2) inclusive) covers the whole level for any
    # box, leaving its background term 0.
    size = 288
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                         batch_input_shape=(size, size), scale_factor=(1, 1)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[10., 12., 50., 60.]]),
                                       labels=torch.tensor([3]))
    # Two images: BatchNorm needs more than one value per channel in ReviewKD's ABF.
    gen = torch.Generator().manual_seed(0)
    data = dict(inputs=[torch.randint(0, 255, (3, size, size), dtype=torch.uint8,
                                      generator=gen) for _ in range(2)],
                data_samples=[sample, sample.clone()])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    for name, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        assert all(torch.isfinite(v).all() for v in values), name
    for n in cfg.model.get('distiller', {}).get('distill_losses', {}):
        # A dict-valued loss (FGD, DKD) is logged as <name>_<term>.
        assert any(k == f'distill.{n}' or k.startswith(f'distill.{n}_') for k in losses), n
    if 'distiller' in cfg.model:
        distill_terms_reach_the_student(
            losses, model.architecture, [k for k in losses if k.startswith('distill.')])


@pytest.mark.parametrize('path', CLS_TOY, ids=lambda p: osp.relpath(p, REPO))
def test_cls_toy_config_runs_a_loss_step(path):
    """One training forward of a classification toy config gives finite losses, every
    distillation term among them, each non-zero with a gradient that reaches the
    student; the construction logs its shape check (not for BLD: nothing to compare)."""
    from mmpretrain.structures import DataSample
    with captured_log() as log:
        cfg, model = build(path)
    if 'distiller' in cfg.model:
        assert dry_run_logged(cfg, log) == dry_run_checks(cfg), log
    model.train()
    # Four different images: the projector recipe batch-normalises pooled features, which
    # are all 0 after BatchNorm for a batch of one image repeated.
    gen = torch.Generator().manual_seed(0)
    data = dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8, generator=gen)
                        for _ in range(4)],
                data_samples=[DataSample().set_gt_label(i) for i in (0, 3, 5, 9)])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert all(torch.isfinite(v).all() for v in losses.values()), losses
    for n in cfg.model.get('distiller', {}).get('distill_losses', {}):
        assert f'distill.{n}' in losses, n
    if hasattr(model, 'architecture'):  # BLD's own terms have no `distill.` prefix
        distill_terms_reach_the_student(
            losses, model.architecture,
            [k for k in losses if k.startswith('distill.') or k in ('loss_distill',
                                                                    'loss_cross')])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    student = model.architecture if hasattr(model, 'architecture') else model
    assert student.backbone.conv1.weight.grad.abs().sum() > 0
