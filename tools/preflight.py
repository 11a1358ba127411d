"""Preflight: real training steps of a COCO config before it gets GPU-days.

    python tools/preflight.py CONFIG [CONFIG ...] [--synthetic] [--iters 2] [--scale S]
                              [--precision fp32|bf16t|amp] [--json FILE]
                              [--cfg-options k=v ...]
    python tools/preflight.py --check-teacher CKPT CONFIG
    python tools/plan.py --preflight [--rows CWD DKD] [--synthetic] [--scale S] [...]

For each config, as mmengine's Runner would: the model from the config's registry scope,
``init_weights()``, the config's own train dataloader (its pipeline and per-GPU batch;
no worker processes) and optim wrapper (gradient clipping included); ``--iters`` training
steps done as ``BaseModel.train_step`` does them, split so the gradients are inspected
between the backward and the optimizer step; then the validation images through
``val_step`` and the config's evaluator. On a GPU the model and batches are on CUDA.

Checks; each failure makes the record ``ok: False`` with a message naming the component:

- every loss term finite; every distillation term (``distill.*``) finite and > 0 (a 0
  only where ``ZERO_ALLOWED`` gives the reason, then said in the notes);
- the teacher (``model.teacher``; mmdet's LD detector: ``teacher_model``): no parameter
  requires grad or has a gradient, and its state dict, buffers included, is bit for bit
  what it was before the steps;
- the student (``model.architecture``, or the detector itself): each of its top-level
  modules (backbone, neck, heads) has a non-zero gradient, and no gradient is NaN/inf
  (except under fp16 loss scaling, whose scaler skips such steps on purpose);
- every other trainable module (connectors, losses with parameters) gets a gradient.

``--synthetic`` (offline: CI and CPU machines): the config's real models with random
weights (``teacher_ckpt`` cleared, every ``init_cfg`` of type ``Pretrained`` removed:
from the config and from the modules a teacher's ``cfg_path`` builds) and a generated
COCO-format set in a temporary directory: 80 COCO classes, 1 to 15 boxes of varied sizes
and aspect ratios per image on noise, one train image without boxes (the loader's
``filter_empty_gt`` drops it) and a val set of the val batch size but at least two
images, the last without boxes, all evaluated. Images are the config's train scale
(1333 x 800 for COCO recipes), so ``Resize(keep_ratio=True)`` keeps them as they are.
The student's test ``score_thr`` is 0, so that random weights still give the evaluator
boxes.
Without ``--synthetic``: the config as it is: its teacher checkpoint loaded at
construction as in training, its data paths checked before anything is built, and the
val set limited to its first batch.

``--scale S`` (tests; any mode): every resize step of the train and val pipelines
(``Resize``, and each scale of ``RandomChoiceResize``/``RandomResize``) gets the scale
``(S, round(0.6 S))``, and synthetic images are that size.

``--precision``: ``fp32`` (the config); ``bf16t``: a bf16 teacher forward
(``teacher_precision='bf16'``, an argument of kd_mmdet's algorithms only); ``amp``: that
teacher and the whole step under autocast: ``kd_mmdet.AutocastOptimWrapper`` (bf16) on
CPUs; on GPUs mmengine's ``AmpOptimWrapper`` (what the configs' AMP line and
``tools/train.py --amp`` use) in bf16 where the GPU has it, else in fp16 with dynamic loss
scaling and an fp16 teacher (``AutocastOptimWrapper`` refuses fp16: it has no scaler).

Each record: ``row`` (the plan's method, ``baseline``, or the config's stem), ``config``,
``ok``, ``terms`` (every logged loss value of the last step), ``input_shape`` (padded
H, W after the data preprocessor), ``step_s`` (mean wall time of a step after the first:
preprocessing, forward, backward, clipping, optimizer step; not data loading nor the
checks), ``peak_mem_mb`` and ``peak_mem_kind`` (``cuda-allocated``:
``torch.cuda.max_memory_allocated`` over the steps; ``cpu-rss``: the process's peak
resident memory over the steps, the kernel's mark reset before the first, else the
lifetime ``ru_maxrss``), ``teacher_share`` (see :func:`teacher_share`), ``val_metrics``,
``precision``, ``synthetic``, ``notes``, ``error``.

``--check-teacher CKPT CONFIG``: builds the config's teacher (random init), compares the
checkpoint's keys and shapes with it (missing, unexpected, shape mismatches; ``OK: N
tensors match`` when clean), and loads it as training does; exits 1 on a mismatch.
"""
import argparse
import contextlib
import gc
import io
import json
import logging
import math
import os
import os.path as osp
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

PRECISIONS = ('fp32', 'bf16t', 'amp')
SYNTHETIC_NOTE = 'teacher checkpoint and ImageNet init skipped: random weights'
#: Scale of synthetic images when the train pipeline names none (mmdet's COCO recipes).
COCO_SCALE = (1333, 800)
#: Box count per synthetic image (COCO averages about 7) and the smallest box side, px.
BOXES_PER_IMAGE = (1, 15)
MIN_BOX_SIDE = 8
#: Distillation terms (``re.fullmatch`` patterns) that may legitimately be 0, with the
#: reason; a 0 among them is checked finite only and reported in the notes. No term of
#: any COCO config is 0 at initialisation by construction (tests/tools/test_preflight.py
#: steps each at 320 px); FGD's background term is 0 by construction on data where the
#: boxes leave no background at a level.
ZERO_ALLOWED: Dict[str, str] = {
    r'distill\.loss_fgd\w*_bg': (
        "FGD's background term is 0 where the batch's boxes cover every cell of the level "
        '(each box spans floor(x1)..ceil(x2) inclusive, so >= 2 x 2 cells): common on the '
        'coarsest FPN levels of small images, e.g. P6 (5 x 3) and P7 (3 x 2) at 320 x 192'),
}


class PreflightError(Exception):
    """A config the preflight cannot run as asked (a missing path, an unsupported option)."""


@dataclass
class PreflightOptions:
    """What to run: see the module docstring."""
    synthetic: bool = False
    iters: int = 2
    scale: Optional[int] = None
    precision: str = 'fp32'
    cfg_options: Dict[str, Any] = field(default_factory=dict)


# ---- synthetic COCO ------------------------------------------------------------------
def synthetic_boxes(rng, width: int, height: int, count: int) -> List[List[float]]:
    """``count`` COCO ``[x, y, w, h]`` boxes inside a ``width`` x ``height`` image: side
    log-uniform from ``MIN_BOX_SIDE`` to 70 % of the shorter image side (COCO's small,
    medium and large), aspect ratio log-uniform from 1:3 to 3:1."""
    boxes = []
    for _ in range(count):
        side = math.exp(rng.uniform(math.log(MIN_BOX_SIDE), math.log(0.7 * min(width, height))))
        ratio = math.sqrt(math.exp(rng.uniform(math.log(1 / 3), math.log(3))))
        w, h = min(side * ratio, width - 1.0), min(side / ratio, height - 1.0)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        # Rounded down: the box stays inside the image.
        boxes.append([math.floor(v * 100) / 100 for v in (x, y, w, h)])
    return boxes


def make_synthetic_coco(root: str, num_train: int, num_val: int, size: Tuple[int, int],
                        seed: int = 0) -> None:
    """A COCO-format detection set under ``root``: ``train/``, ``val/`` (JPEG) and
    ``annotations/{train,val}.json``, with the 80 classes of ``mmdet.datasets.CocoDataset``
    (ids 1 to 80).

    Train: ``num_train`` images with 1 to 15 boxes each, then one without any (the train
    loader's ``filter_empty_gt`` drops it). Val: ``num_val`` images, the last without boxes.
    Images are noise with a rectangle of its class's colour per box.

    Args:
        root: output directory.
        num_train: train images with boxes.
        num_val: val images (>= 1).
        size: ``(width, height)`` of every image.
        seed: seed of images and boxes.
    """
    import numpy as np
    from mmdet.datasets import CocoDataset
    from PIL import Image
    rng = np.random.default_rng(seed)
    width, height = size
    classes = CocoDataset.METAINFO['classes']
    colours = rng.integers(0, 256, (len(classes), 3), dtype=np.uint8)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    ann_id = 0
    for split, counts in (('train', [None] * num_train + [0]),
                          ('val', [None] * (num_val - 1) + [0])):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        for image_id, count in enumerate(counts, 1):
            if count is None:
                count = int(rng.integers(BOXES_PER_IMAGE[0], BOXES_PER_IMAGE[1] + 1))
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            for box in synthetic_boxes(rng, width, height, count):
                label = int(rng.integers(len(classes)))
                x, y, w, h = box
                pixels[int(y):int(y + h) + 1, int(x):int(x + w) + 1] = colours[label]
                ann_id += 1
                annotations.append(dict(id=ann_id, image_id=image_id, category_id=label + 1,
                                        bbox=box, area=round(w * h, 2), iscrowd=0))
            name = f'{image_id:06d}.jpg'
            Image.fromarray(pixels).save(osp.join(root, split, name), quality=90)
            images.append(dict(id=image_id, file_name=name, width=width, height=height))
        with open(osp.join(root, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=[dict(id=i + 1, name=n) for i, n in enumerate(classes)]),
                      f)


# ---- the config ----------------------------------------------------------------------
def dataset_leaf(dataset: dict, key: str) -> dict:
    """The dataset dict that reads files, inside wrappers (``RepeatDataset``,
    ``ClassBalancedDataset``: ``dataset``). ``key`` names it in errors."""
    while 'dataset' in dataset:
        dataset, key = dataset['dataset'], f'{key}.dataset'
    if 'datasets' in dataset:
        raise PreflightError(f'{key}: a {dataset.get("type")} of several datasets; the '
                             'preflight handles one dataset (in wrappers)')
    return dataset


def resize_steps(pipeline: Iterable) -> Iterator[dict]:
    """Every resize step of a pipeline, also inside nested transform lists
    (``RandomChoice``, ``TestTimeAug``)."""
    for step in pipeline:
        if isinstance(step, (list, tuple)):
            yield from resize_steps(step)
        elif isinstance(step, dict):
            if str(step.get('type', '')).endswith('Resize'):
                yield step
            for value in step.values():
                if isinstance(value, (list, tuple)):
                    yield from resize_steps(value)


def _scale_list(value: Any) -> List[Tuple[int, int]]:
    """The ``(w, h)`` scales of a resize step's ``scale``/``scales``: one or a list."""
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return [tuple(v) for v in value]
    return [tuple(value)]


def pipeline_scale(pipeline: Iterable) -> Optional[Tuple[int, int]]:
    """The largest ``(w, h)`` scale the pipeline's resize steps name (None: none)."""
    scales = [s for step in resize_steps(pipeline) for key in ('scale', 'scales')
              if step.get(key) is not None for s in _scale_list(step[key])]
    return max(scales, key=lambda s: s[0] * s[1]) if scales else None


def set_resize_scale(pipeline: Iterable, scale: Tuple[int, int]) -> int:
    """Give every resize step the one ``scale`` (each entry of a multi-scale list too);
    returns how many steps changed."""
    changed = 0
    for step in resize_steps(pipeline):
        for key in ('scale', 'scales'):
            if step.get(key) is not None:
                many = len(_scale_list(step[key])) > 1 or key == 'scales'
                step[key] = [scale] * len(_scale_list(step[key])) if many else scale
                changed += 1
    return changed


def _without_pretrained(init_cfg: Any) -> Tuple[Any, int]:
    """``init_cfg`` (a dict or a list of them) without its ``Pretrained`` entries, and how
    many there were."""
    entries = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    kept = [c for c in entries if not (isinstance(c, dict) and c.get('type') == 'Pretrained')]
    removed = len(entries) - len(kept)
    if not removed:
        return init_cfg, 0
    return (kept if isinstance(init_cfg, list) else None) or None, removed


def strip_pretrained(node: Any) -> int:
    """Remove every ``Pretrained`` ``init_cfg`` from a config tree; returns the count."""
    removed = 0
    if isinstance(node, dict):
        if node.get('init_cfg') is not None:
            node['init_cfg'], removed = _without_pretrained(node['init_cfg'])
        removed += sum(strip_pretrained(v) for v in node.values())
    elif isinstance(node, (list, tuple)):
        removed += sum(strip_pretrained(v) for v in node)
    return removed


def strip_pretrained_modules(modules: Iterable) -> List[str]:
    """Remove ``Pretrained`` ``init_cfg`` entries from built modules (a teacher built
    from a ``cfg_path`` carries its config's); returns the names of the modules."""
    from mmengine.model import BaseModule
    names = []
    for root in modules:
        for name, module in root.named_modules():
            if isinstance(module, BaseModule) and module.init_cfg:
                module.init_cfg, removed = _without_pretrained(module.init_cfg)
                if removed:
                    names.append(name)
    return names


def val_evaluators(cfg) -> List[dict]:
    """The metric configs of ``cfg.val_evaluator`` (one dict or a list)."""
    evaluator = cfg.val_evaluator
    return list(evaluator) if isinstance(evaluator, list) else [evaluator]


def check_data_paths(cfg) -> None:
    """Raise ``PreflightError`` naming the config key and the path of the first data file
    or directory (train and val annotations and images, the evaluators' ``ann_file``)
    that does not exist."""
    paths = []
    for loader in ('train_dataloader', 'val_dataloader'):
        dataset = dataset_leaf(cfg[loader].dataset, f'{loader}.dataset')
        root = dataset.get('data_root') or ''
        paths.append((f'{loader}.dataset.ann_file', osp.join(root, dataset.ann_file)))
        for key, prefix in (dataset.get('data_prefix') or {}).items():
            paths.append((f'{loader}.dataset.data_prefix.{key}', osp.join(root, prefix)))
    paths += [('val_evaluator.ann_file', e.ann_file) for e in val_evaluators(cfg)
              if e.get('ann_file')]
    for key, path in paths:
        if not osp.exists(path):
            raise PreflightError(f'{key}: {path!r} does not exist (pass --synthetic to run '
                                 'on generated data)')


def point_data_at(cfg, root: str) -> None:
    """Train and val loaders and the val evaluators read the synthetic set at ``root``."""
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val')):
        dataset = dataset_leaf(cfg[loader].dataset, f'{loader}.dataset')
        dataset.update(data_root=root, ann_file=f'annotations/{split}.json',
                       data_prefix=dict(img=f'{split}/'))
    for evaluator in val_evaluators(cfg):
        if 'ann_file' in evaluator:
            evaluator.ann_file = osp.join(root, 'annotations', 'val.json')


def model_class(cfg) -> type:
    """The class ``cfg.model`` builds, looked up as ``MODELS.build`` does."""
    from mmengine.registry import MODELS
    scope = cfg.model.get('_scope_') or cfg.get('default_scope', 'mmdet')
    with MODELS.switch_scope_and_registry(scope) as registry:
        return registry.get(cfg.model.type)


def apply_precision(cfg, precision: str, device: str) -> List[str]:
    """Set ``--precision`` in ``cfg`` (see the module docstring); returns notes.

    Raises:
        PreflightError: a model with a teacher whose class takes no ``teacher_precision``.
    """
    import torch
    from kd_mmdet.models.algorithms.single_teacher_distill import SingleTeacherDistill
    if precision == 'fp32':
        return []
    if precision not in PRECISIONS:
        raise PreflightError(f'--precision must be one of {PRECISIONS}, got {precision!r}')
    bf16 = device != 'cuda' or torch.cuda.is_bf16_supported()
    if precision == 'bf16t' and not bf16:
        raise PreflightError('--precision bf16t: this GPU has no bf16; --precision amp runs '
                             'the teacher and the step in fp16 here')
    low = 'bf16' if bf16 else 'fp16'
    cls = model_class(cfg)
    notes = []
    if issubclass(cls, SingleTeacherDistill):
        cfg.model.teacher_precision = low
        notes.append(f'teacher_precision={low!r}')
    elif 'teacher' in cfg.model or 'teacher_config' in cfg.model:
        raise PreflightError(
            f'--precision {precision}: {cls.__name__} has a teacher but no teacher_precision '
            'argument (kd_mmdet.SingleTeacherDistill and its subclasses, e.g. CrossKDDistill, '
            'have it); run this config with --precision fp32')
    else:
        notes.append(f'{cls.__name__} has no teacher: no teacher_precision to set')
    if precision == 'amp':
        if device == 'cuda':
            cfg.optim_wrapper.update(type='AmpOptimWrapper', loss_scale='dynamic',
                                     dtype='bfloat16' if low == 'bf16' else None)
        else:
            cfg.optim_wrapper.update(type='kd_mmdet.AutocastOptimWrapper', dtype='bfloat16')
    return notes


def describe_wrapper(wrapper) -> str:
    """``optim wrapper: <class> (<autocast dtype>, loss scaling)``: what the steps ran."""
    dtype = getattr(wrapper, 'cast_dtype', None)
    scaler = getattr(wrapper, 'loss_scaler', None) is not None
    if dtype is None and scaler:  # AmpOptimWrapper's default: autocast's fp16
        dtype = 'float16'
    details = [str(dtype).replace('torch.', '')] if dtype is not None else []
    details += ['loss scaling'] if scaler else []
    return f'optim wrapper: {type(wrapper).__name__}' + (
        f' ({", ".join(details)})' if details else '')


def prepare_config(config: str, options: PreflightOptions, data_root: Callable[..., str],
                   device: str) -> Tuple[Any, List[str]]:
    """The config with the preflight's changes, and notes saying what changed.

    Args:
        config: config path.
        options: what to run.
        data_root: ``data_root(size, num_train, num_val)`` returns the directory of a
            synthetic set of that image size and counts (``--synthetic`` only).
        device: ``'cuda'`` or ``'cpu'``.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if options.cfg_options:
        cfg.merge_from_dict(options.cfg_options)
    notes = []
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
    train = dataset_leaf(cfg.train_dataloader.dataset, 'train_dataloader.dataset')
    val = dataset_leaf(cfg.val_dataloader.dataset, 'val_dataloader.dataset')
    size = pipeline_scale(train.pipeline) or COCO_SCALE
    if options.scale:
        size = (options.scale, round(options.scale * 0.6))
        for dataset in (train, val):
            set_resize_scale(dataset.pipeline, size)
        notes.append(f'resize scale {size[0]}x{size[1]}')
    if options.synthetic:
        if cfg.model.get('teacher_ckpt'):
            cfg.model.teacher_ckpt = None
        strip_pretrained(cfg.model)
        num_train = options.iters * cfg.train_dataloader.batch_size
        num_val = max(cfg.val_dataloader.batch_size, 2)
        point_data_at(cfg, data_root(size, num_train, num_val))
        notes.append(SYNTHETIC_NOTE)
        notes.append('synthetic: test score_thr 0 (random weights score below the '
                     "config's)")
        notes.append(f'synthetic {size[0]}x{size[1]} images: {num_train} train, {num_val} val')
    else:
        check_data_paths(cfg)
        val.indices = cfg.val_dataloader.batch_size  # one val batch
    notes += apply_precision(cfg, options.precision, device)
    return cfg, notes


def build_model(cfg):
    """``cfg.model`` built from the config's registry scope, as Runner builds it."""
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return MODELS.build(cfg.model)


def keep_all_boxes(detector) -> None:
    """Set every ``score_thr`` of the detector's test configs (each head's
    ``test_cfg``, nested ones too) to 0: a randomly initialised detector scores below
    the config's thresholds and would give the evaluator nothing. On the built modules,
    because a detector built from a ``cfg_path`` has its test config in another file."""
    def zero(cfg: Any) -> None:
        if isinstance(cfg, dict):
            if 'score_thr' in cfg:
                cfg['score_thr'] = 0.0
            for value in cfg.values():
                zero(value)

    for module in detector.modules():
        zero(getattr(module, 'test_cfg', None))


def model_parts(model) -> Tuple[Any, Optional[Any]]:
    """``(student, teacher)``: mmrazor algorithms' ``architecture`` and ``teacher``;
    mmdet's LD detector is its own student with an unregistered ``teacher_model``;
    a detector alone has no teacher."""
    teacher = getattr(model, 'teacher', None)
    if teacher is None:
        teacher = getattr(model, 'teacher_model', None)
    student = getattr(model, 'architecture', None)
    if student is None:
        student = getattr(model, 'student', None)
    return (model if student is None else student), teacher


# ---- checks --------------------------------------------------------------------------
def _some(names: Sequence[str]) -> str:
    return names[0] + (f' (and {len(names) - 1} more)' if len(names) > 1 else '')


def zero_allowed(name: str) -> Optional[str]:
    """Why the loss term ``name`` may be 0 (``ZERO_ALLOWED``), or None."""
    return next((why for pattern, why in ZERO_ALLOWED.items() if re.fullmatch(pattern, name)),
                None)


def loss_failures(losses: Dict[str, Any]) -> List[str]:
    """Messages for loss terms that are not finite, and ``distill.*`` terms that are not
    > 0 (``ZERO_ALLOWED`` excepted)."""
    import torch
    failures = []
    for name, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        total = sum(float(v.detach().float().sum()) for v in values)
        if not all(bool(torch.isfinite(v).all()) for v in values):
            failures.append(f'loss term {name} is not finite ({total})')
        elif name.startswith('distill.') and total <= 0 and not (
                total == 0 and zero_allowed(name)):
            failures.append(f'distillation term {name} is {total}, not > 0: it distils nothing')
    return failures


def grad_failures(student, teacher, others: Dict[str, List[Any]],
                  scaled: bool = False) -> List[str]:
    """Messages for gradients where they should not be, or missing where they should.

    Args:
        student: the trained detector; each top-level module with trainable parameters
            must get a non-zero gradient, and all must be finite unless ``scaled``.
        teacher: the frozen teacher (or None): no parameter may require or hold a gradient.
        others: trainable parameters of the other modules (connectors, losses), by module
            name; each must get a non-zero gradient.
        scaled: fp16 loss scaling, whose inf/NaN gradients the scaler skips on purpose.
    """
    failures = []
    if teacher is not None:
        named = list(teacher.named_parameters())
        trainable = [n for n, p in named if p.requires_grad]
        if trainable:
            failures.append(f'teacher parameter {_some(trainable)} requires grad')
        with_grad = [n for n, p in named if p.grad is not None]
        if with_grad:
            failures.append(f'teacher parameter {_some(with_grad)} has a gradient')
    groups = {f'student {name}': [p for p in child.parameters() if p.requires_grad]
              for name, child in student.named_children()}
    groups.update(others)
    for name, params in groups.items():
        if params and not any(p.grad is not None and bool(p.grad.abs().sum() > 0)
                              for p in params):
            failures.append(f'{name}: no parameter has a non-zero gradient')
    if not scaled:
        bad = [n for n, p in student.named_parameters()
               if p.grad is not None and not bool(p.grad.isfinite().all())]
        if bad:
            failures.append(f'student parameter {_some(bad)} has a non-finite gradient')
    return failures


def other_trainables(model, student, teacher) -> Dict[str, List[Any]]:
    """Trainable parameters outside student and teacher (connectors, losses with
    parameters), grouped by their module path up to two levels below the model's
    children (e.g. ``distiller.connectors.review``)."""
    skip = {id(p) for m in (student, teacher) if m is not None for p in m.parameters()}
    groups: Dict[str, List[Any]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad and id(param) not in skip:
            groups.setdefault('.'.join(name.split('.')[:3]), []).append(param)
    return groups


def snapshot(module, path: str) -> None:
    """Save ``module``'s state dict (buffers too) to ``path``: on disk, so that the copy
    does not count in the steps' peak memory."""
    import torch
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, path)


def changed_tensors(module, path: str) -> List[str]:
    """Names of the tensors of ``module``'s state dict that differ from ``path``'s."""
    import torch
    before = torch.load(path, map_location='cpu', weights_only=True)
    now = module.state_dict()
    changed = [k for k in before if k not in now or not torch.equal(before[k], now[k].cpu())]
    return changed + [k for k in now if k not in before]


# ---- timing --------------------------------------------------------------------------
def synchronize(device: str) -> None:
    """Wait for queued CUDA work, so that wall times cover it."""
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()


@contextlib.contextmanager
def timed_teacher_context(model, times: List[float], device: str) -> Iterator[None]:
    """Inside, each use of ``model.teacher_context`` appends its wall time to ``times``
    (an instance attribute shadows the method for the duration)."""
    original = model.teacher_context

    @contextlib.contextmanager
    def timed(*args, **kwargs):
        synchronize(device)
        start = time.perf_counter()
        with original(*args, **kwargs) as inputs:
            yield inputs
        synchronize(device)
        times.append(time.perf_counter() - start)

    model.teacher_context = timed
    try:
        yield
    finally:
        del model.teacher_context


def teacher_forward_time(teacher, inputs, device: str) -> float:
    """Seconds of ``extract_feat`` and, for a one-stage detector, ``bbox_head`` under
    no_grad on ``inputs`` (the second of two runs): the teacher's cost where the
    algorithm has no ``teacher_context`` to time."""
    import torch
    elapsed = 0.0
    for _ in range(2):
        synchronize(device)
        start = time.perf_counter()
        with torch.no_grad():
            feats = teacher.extract_feat(inputs)
            if getattr(teacher, 'bbox_head', None) is not None and \
                    getattr(teacher, 'roi_head', None) is None:
                teacher.bbox_head(feats)
        synchronize(device)
        elapsed = time.perf_counter() - start
    return elapsed


def teacher_share(teacher_s: Optional[float], step_s: Optional[float]) -> Optional[float]:
    """The teacher's part of a training step: ``teacher_s / step_s``.

    ``teacher_s`` is the mean wall time spent inside the algorithm's ``teacher_context``
    over the same steps as ``step_s`` (kd_mmdet's algorithms: the frozen teacher's
    forward as the step runs it: ``extract_feat``, plus the head, the RoI head on the
    student's RoIs or the loss-mode forward where the algorithm runs them, and the cast
    of its records to fp32; not CrossKD's teacher layers on student features, which run
    with gradient outside it), or :func:`teacher_forward_time` for algorithms without
    ``teacher_context``; None without a teacher.
    """
    if teacher_s is None or not step_s:
        return None
    return teacher_s / step_s


def _mean_after_first(times: Sequence[float]) -> Optional[float]:
    times = list(times[1:]) or list(times)
    return sum(times) / len(times) if times else None


# ---- one config ----------------------------------------------------------------------
def _cycle(loader) -> Iterator[Any]:
    """The loader's batches, epoch after epoch."""
    if len(loader) == 0:  # e.g. every image filtered out: no step could ever run
        raise PreflightError('train_dataloader yields no batch (every image filtered out?)')
    while True:
        yield from loader


def _error(stage: str, e: BaseException) -> str:
    """``stage: Type: message (at file:line in function)``, the innermost frame."""
    if isinstance(e, PreflightError) or e.__traceback__ is None:  # says all it needs to
        return f'{stage}: {type(e).__name__}: {e}'
    frame = traceback.extract_tb(e.__traceback__)[-1]
    path = frame.filename
    path = osp.relpath(path, REPO) if path.startswith(REPO + os.sep) else path
    return f'{stage}: {type(e).__name__}: {e} (at {path}:{frame.lineno} in {frame.name})'


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """mmengine's logger at WARNING and stdout discarded: the tool's table is its output,
    not the info logs (``init_weights`` logs every tensor's init) nor what pycocotools
    and mmengine's checkpoint loader print."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def run_steps(model, wrapper, loader, iters: int, device: str, record: dict,
              workdir: str) -> List[str]:
    """``iters`` training steps with the checks; fills ``record`` (``terms``,
    ``input_shape``, ``step_s``, ``peak_mem_*``, ``teacher_share``); returns failures."""
    import torch
    from kd_mmdet.analysis.memory import PeakRSS
    student, teacher = model_parts(model)
    others = other_trainables(model, student, teacher)
    scaled = getattr(wrapper, 'loss_scaler', None) is not None and \
        getattr(wrapper, 'cast_dtype', None) in (None, torch.float16)
    snapshot_path = osp.join(workdir, 'teacher_before.pth')
    if teacher is not None:
        snapshot(teacher, snapshot_path)
    times: List[float] = []
    teacher_times: List[float] = []
    timing = timed_teacher_context(model, teacher_times, device) \
        if hasattr(model, 'teacher_context') else contextlib.nullcontext()
    failures: List[str] = []
    model.train()
    rss = PeakRSS()
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    batches = _cycle(loader)
    with timing:
        for i in range(iters):
            data = next(batches)
            synchronize(device)
            start = time.perf_counter()
            with wrapper.optim_context(model):
                data = model.data_preprocessor(data, True)
                losses = model(**data, mode='loss')
            parsed, log_vars = model.parse_losses(losses)
            record['terms'] = {k: float(v.detach()) for k, v in log_vars.items()}
            record['input_shape'] = list(data['inputs'].shape[-2:])
            failures = loss_failures(losses)
            if not failures:
                wrapper.backward(parsed)
                synchronize(device)
                elapsed = time.perf_counter() - start
                failures = grad_failures(student, teacher, others, scaled)
            if failures:
                failures = [f'step {i + 1}: {m}' for m in failures]
                break
            start = time.perf_counter()
            wrapper.step()
            wrapper.zero_grad()
            synchronize(device)
            times.append(elapsed + time.perf_counter() - start)
    if device == 'cuda':
        record.update(peak_mem_mb=torch.cuda.max_memory_allocated() / 2 ** 20,
                      peak_mem_kind='cuda-allocated')
    else:
        record.update(peak_mem_mb=rss.peak(), peak_mem_kind='cpu-rss')
    record['step_s'] = _mean_after_first(times)
    record['notes'] += [f'{k} = 0, allowed: {zero_allowed(k)}' for k, v in record['terms'].items()
                        if v == 0 and k.startswith('distill.') and zero_allowed(k)]
    if teacher is not None and not failures:
        changed = changed_tensors(teacher, snapshot_path)
        if changed:
            failures.append(f'teacher tensor {_some(changed)} changed during {iters} steps')
        teacher_s = _mean_after_first(teacher_times) if teacher_times else \
            teacher_forward_time(teacher, data['inputs'], device)
        record['teacher_share'] = teacher_share(teacher_s, record['step_s'])
    return failures


def validate(model, cfg) -> Dict[str, Any]:
    """The val loader's images through ``val_step`` and the config's evaluator; its
    metrics. CocoMetric scores the processed images only (its ``img_ids``)."""
    import torch
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(cfg.val_dataloader, seed=0)
    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    model.eval()
    img_ids = []
    with torch.no_grad():
        for batch in loader:
            outputs = model.val_step(batch)
            evaluator.process(outputs, batch)
            img_ids += [o.metainfo.get('img_id') for o in outputs]
    for metric in evaluator.metrics:
        if hasattr(metric, 'img_ids'):
            metric.img_ids = img_ids
    metrics = evaluator.evaluate(len(img_ids))
    return {k: float(v) if isinstance(v, (int, float)) else v for k, v in metrics.items()}


def preflight_config(config: str, options: PreflightOptions, row: str,
                     data_root: Callable[..., str], workdir: str) -> Dict[str, Any]:
    """The preflight of one config: its record (see the module docstring)."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner, set_random_seed
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    record: Dict[str, Any] = dict(
        row=row, config=osp.relpath(config, REPO) if config.startswith(REPO) else config,
        ok=False, terms={}, input_shape=None, step_s=None, peak_mem_mb=None,
        peak_mem_kind='cuda-allocated' if device == 'cuda' else 'cpu-rss',
        teacher_share=None, val_metrics={}, precision=options.precision,
        synthetic=options.synthetic, notes=[], error=None)
    stage = 'config'
    with quiet():
        try:
            cfg, record['notes'] = prepare_config(config, options, data_root, device)
            stage = 'build'
            set_random_seed(0)
            model = build_model(cfg)
            if options.synthetic:
                student, teacher = model_parts(model)
                strip_pretrained_modules([model] + ([teacher] if teacher is not None else []))
                keep_all_boxes(student)
            model.init_weights()
            model.to(device)
            wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            record['notes'].append(describe_wrapper(wrapper))
            loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
            stage = 'train'
            failures = run_steps(model, wrapper, loader, options.iters, device, record, workdir)
            if not failures:
                stage = 'val'
                record['val_metrics'] = validate(model, cfg)
        except Exception as e:  # any failure is the config's finding, reported in its record
            failures = [_error(stage, e)]
    record['ok'] = not failures
    record['error'] = '; '.join(failures) or None
    return record


def plan_rows() -> Dict[str, str]:
    """Absolute config path -> the plan's method name, or ``'baseline'``
    (tools/plan.py's plan)."""
    import importlib.util
    name = 'kd_mmdet_plan'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', 'plan.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    plan_tool = sys.modules[name]
    return {osp.join(REPO, r.config): r.method
            for r in plan_tool.plan_runs(plan_tool.load_plan(), toy=False)}


def run_preflight(configs: Sequence[str], options: PreflightOptions,
                  rows: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """The preflight of every config, one record each, in order.

    Args:
        configs: config paths.
        options: what to run.
        rows: absolute config path -> row name (default: :func:`plan_rows`); configs
            not in it are named by their file stem.
    """
    import torch
    import kd_mmdet  # noqa: F401  registers kd_mmdet and applies kd_mmdet.compat
    if options.iters < 1:
        raise PreflightError(f'--iters must be >= 1, got {options.iters}')
    rows = plan_rows() if rows is None else rows
    records = []
    with tempfile.TemporaryDirectory(prefix='kd_mmdet_preflight_') as tmp:
        sets: Dict[tuple, str] = {}

        def data_root(size: Tuple[int, int], num_train: int, num_val: int) -> str:
            key = (tuple(size), num_train, num_val)
            if key not in sets:
                sets[key] = osp.join(tmp, f'coco_{size[0]}x{size[1]}_{num_train}-{num_val}')
                make_synthetic_coco(sets[key], num_train, num_val, size)
            return sets[key]

        for config in configs:
            path = osp.abspath(config)
            row = rows.get(path, osp.splitext(osp.basename(path))[0])
            with tempfile.TemporaryDirectory(dir=tmp) as workdir:
                records.append(preflight_config(path, options, row, data_root, workdir))
            # Free this config's model now (hooks make reference cycles), so that it does
            # not count in the next config's peak memory.
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    return records


# ---- output --------------------------------------------------------------------------
def _num(value: Optional[float], digits: int = 3) -> str:
    return '—' if value is None else f'{value:.{digits}g}'


def format_table(records: Sequence[Dict[str, Any]]) -> str:
    """A markdown table: one line per record, its distillation terms and first metric."""
    columns = ['row', 'config', 'ok', 'input', 'step s', 'teacher share', 'peak MB',
               'distill terms', 'val']
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for r in records:
        distill = ', '.join(f'{k[len("distill."):]} {_num(v)}' for k, v in r['terms'].items()
                            if k.startswith('distill.')) or '—'
        metric = next(iter(r['val_metrics'].items()), None)
        cells = [r['row'], osp.basename(r['config']), 'ok' if r['ok'] else 'FAILED',
                 'x'.join(map(str, r['input_shape'])) if r['input_shape'] else '—',
                 _num(r['step_s']), _num(r['teacher_share'], 2),
                 f'{r["peak_mem_mb"]:.0f} ({r["peak_mem_kind"]})'
                 if r['peak_mem_mb'] is not None else '—',
                 distill, f'{metric[0]} {_num(metric[1])}' if metric else '—']
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def report(records: Sequence[Dict[str, Any]], json_path: Optional[str] = None) -> int:
    """Print the table, the notes and the failures; write ``json_path``; 1 if any
    record failed, else 0."""
    notes = sorted({n for r in records for n in r['notes']})
    print(format_table(records))
    if notes:
        print('\n' + '\n'.join(f'note: {n}' for n in notes))
    failed = [r for r in records if not r['ok']]
    for r in failed:
        print(f'FAILED {r["row"]} ({r["config"]}): {r["error"]}', file=sys.stderr)
    if json_path:
        with open(json_path, 'w') as f:
            json.dump(list(records), f, indent=2)
    return 1 if failed else 0


# ---- --check-teacher -----------------------------------------------------------------
def check_teacher(checkpoint: str, config: str,
                  cfg_options: Optional[Dict[str, Any]] = None) -> Tuple[bool, List[str]]:
    """Compare ``checkpoint`` with the config's teacher, then load it as training does
    (:func:`kd_mmdet.models.algorithms.single_teacher_distill.load_teacher_checkpoint`).

    Returns:
        ``(ok, lines)``: the missing keys, unexpected keys and shape mismatches, one a
        line, or ``OK: N tensors match``.
    """
    import kd_mmdet  # noqa: F401  registers kd_mmdet and applies kd_mmdet.compat
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import _load_checkpoint
    from mmrazor.registry import MODELS as RAZOR_MODELS
    from kd_mmdet.models.algorithms.single_teacher_distill import (checkpoint_mismatch,
                                                                    load_teacher_checkpoint)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'teacher' not in cfg.model:
        raise PreflightError(f'--check-teacher: {config} has no model.teacher (a '
                             f'{cfg.model.get("type")}); nothing to check')
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    with quiet():
        teacher = RAZOR_MODELS.build(cfg.model.teacher)  # as mmrazor's algorithms build it
        # Read as load_teacher_checkpoint reads it: the state dict, without DDP's 'module.'.
        state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    missing, unexpected, shapes = checkpoint_mismatch(teacher, state)
    lines = [f'missing key (in the teacher, not in the checkpoint): {k}' for k in missing]
    lines += [f'unexpected key (in the checkpoint, not in the teacher): {k}' for k in unexpected]
    lines += [f'shape mismatch: {s}' for s in shapes]
    if lines:
        lines.append(f'MISMATCH: {len(missing)} missing, {len(unexpected)} unexpected, '
                     f'{len(shapes)} shape mismatches ({checkpoint} vs the teacher of '
                     f'{config})')
        return False, lines
    with quiet():
        load_teacher_checkpoint(teacher, checkpoint, True, cfg.model.type.split('.')[-1])
    return True, [f'OK: {len(state)} tensors match']


# ---- command line --------------------------------------------------------------------
def add_preflight_arguments(parser: argparse.ArgumentParser) -> None:
    """The options tools/preflight.py and ``tools/plan.py --preflight`` share."""
    parser.add_argument('--synthetic', action='store_true',
                        help='random weights and a generated COCO-format set (offline)')
    parser.add_argument('--iters', type=int, default=2, help='training steps per config')
    parser.add_argument('--scale', type=int,
                        help='resize scale (S, 0.6 S) for every pipeline (e.g. 320 in tests)')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='fp32; bf16t: bf16 teacher; amp: bf16 teacher + autocast step')
    parser.add_argument('--json', help='write the records to this JSON file')


def options_from_args(args: argparse.Namespace,
                      cfg_options: Optional[Dict[str, Any]] = None) -> PreflightOptions:
    return PreflightOptions(args.synthetic, args.iters, args.scale, args.precision,
                            dict(cfg_options or {}))


def main(argv: Optional[List[str]] = None) -> int:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', metavar='CONFIG', help='config files')
    add_preflight_arguments(parser)
    parser.add_argument('--check-teacher', metavar='CKPT',
                        help='compare CKPT with the teacher of the one CONFIG, and stop')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.teacher_forward=loss')
    args = parser.parse_args(argv)
    try:
        if args.check_teacher:
            if len(args.configs) != 1:
                parser.error('--check-teacher takes one CONFIG')
            ok, lines = check_teacher(args.check_teacher, args.configs[0], args.cfg_options)
            print('\n'.join(lines))
            return 0 if ok else 1
        records = run_preflight(args.configs, options_from_args(args, args.cfg_options))
    except PreflightError as e:
        print(f'tools/preflight.py: {e}', file=sys.stderr)
        return 1
    return report(records, args.json)


if __name__ == '__main__':
    sys.exit(main())
