"""Training cost of distillation: per loss (ours vs the reference) and per method (step time).

    python benchmarks/cost.py                       # both parts (docs/benchmarks.md)
    python benchmarks/cost.py --quick               # smaller shapes, fewer repeats
    python benchmarks/cost.py --part losses --losses cwd mgd
    python benchmarks/cost.py --part steps --methods cwd_fpn dkd_roi
    python benchmarks/cost.py --part precision      # fp32 vs bf16 teacher vs full bf16 AMP

**losses**: forward + backward of our loss module and of the reference implementation on
the same tensors, at COCO-like shapes (batch 2, 256 channels, P3–P7 of an 800×1333 input
padded to 800×1344; RoI logits of 2 × 512 sampled RoIs and 81 classes; ImageNet logits
256 × 1000). Time: median of ``--repeats`` calls after warm-up, ours and the reference
interleaved in this process. Values: loss and gradient of both on the same inputs.
Memory: the peak resident memory (RSS) a call adds above the inputs, measured in a fresh
subprocess per loss and implementation (the kernel's peak-RSS mark is reset to the
current RSS after the inputs exist and one warm-up call ran, see ``PeakRSS``). On CPU
there is no allocator counter like ``torch.cuda.max_memory_allocated``; RSS is what the
machine has to provide, and a fresh process keeps one measurement from reusing memory
another one freed.

**steps**: for each toy distillation config of ``benchmarks/quality.py``, one fixed batch
(random images with 1–3 boxes each, or labelled images for classification), the median
of ``--steps`` training steps (data preprocessing, loss forward, backward, optimizer step,
as ``Runner`` does them) of the distillation model, of the student alone (its pair's
baseline config), and of the teacher's forward under ``no_grad`` (``mode='tensor'``: the
detector's or classifier's own forward, without losses), interleaved in one process.
The ratio is ``distill / (student + teacher forward)``: what distillation costs beyond the
two forwards it cannot avoid. Peak RSS of training steps of the distillation model and of
the student alone, each in a fresh process. Teachers are randomly initialised (same cost).

**precision**: for the toy GFL (CWD) and Faster R-CNN (DKD) pairs, training steps and the
teacher's forward in four settings, interleaved in one process: fp32; a bf16 teacher
(``teacher_precision='bf16'``); a bf16 channels_last teacher; and full bf16 AMP (that
teacher plus ``kd_mmdet.AutocastOptimWrapper``); peak RSS of each in a fresh process.
"""
import argparse
import gc
import json
import logging
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from kd_mmdet.analysis.memory import PeakRSS  # noqa: E402  (REPO on the path first)

# ---- memory and time ------------------------------------------------------------
def median_times(fns: Sequence[Callable[[], object]], repeats: int, warmup: int,
                 min_time: float = 0.0, max_repeats: int = 1000) -> List[float]:
    """Median seconds of each function, called in turn after ``warmup`` rounds.

    Calls go round-robin (a, b, a, b, ...) so that a change of machine load hits all
    functions alike; at least ``repeats`` rounds, and more (up to ``max_repeats``) until
    every function has run ``min_time`` seconds in all, so fast calls get many samples.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: List[List[float]] = [[] for _ in fns]
    while True:
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
        rounds = len(times[0])
        if rounds >= max_repeats or (rounds >= repeats and
                                     min(sum(t) for t in times) >= min_time):
            return [statistics.median(t) for t in times]


def run_child(args: List[str], threads: int) -> dict:
    """Run ``cost.py`` with child arguments in a fresh process; its JSON result."""
    # Every allocation of 64 KiB or more gets its own mapping, returned to the system
    # when freed, so the RSS follows the live tensors (glibc's adaptive threshold would
    # otherwise serve later tensors from memory earlier ones left in the heap).
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               MALLOC_MMAP_THRESHOLD_='65536')
    out = subprocess.run([sys.executable, osp.abspath(__file__), *args,
                          '--threads', str(threads)], cwd=REPO, env=env,
                         capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f'cost.py child {args} failed ({out.returncode}):\n'
                           f'{out.stderr[-3000:]}')
    return json.loads(lines[-1])


# ---- part 1: losses -----------------------------------------------------------------
def fpn_shapes(height: int, width: int, batch: int = 2, channels: int = 256,
               strides: Sequence[int] = (8, 16, 32, 64, 128),
               divisor: int = 32) -> List[Tuple[int, int, int, int]]:
    """(N, C, H, W) of P3–P7 for an input padded to a multiple of ``divisor``.

    Each level halves the previous one rounding up, as strided 3x3 convs with padding 1
    do (mmdet's FPN extra levels): 800×1333 → 800×1344 → 100×168, 50×84, 25×42, 13×21,
    7×11.
    """
    h = -(-height // divisor) * divisor
    w = -(-width // divisor) * divisor
    shapes = []
    for stride in strides:
        shapes.append((batch, channels, -(-h // stride), -(-w // stride)))
    return shapes


@dataclass
class LossCase:
    """One comparison: inputs, our call, the reference call, what the numbers mean.

    ``ours`` and ``ref`` take the input dict and return a scalar loss; gradients flow
    into the tensors named in ``grad_keys``.
    """
    name: str
    shapes: str
    make_inputs: Callable[[], Dict[str, object]]
    ours: Callable[[Dict[str, object]], object]
    ref: Callable[[Dict[str, object]], object]
    grad_keys: Tuple[str, ...]
    ours_label: str
    ref_label: str
    note: str = ''


def _feature_pairs(shapes, seed=0):
    import torch
    gen = torch.Generator().manual_seed(seed)
    inputs = {}
    for i, shape in enumerate(shapes):
        inputs[f'S{i}'] = torch.randn(shape, generator=gen).requires_grad_()
        inputs[f'T{i}'] = torch.randn(shape, generator=gen)
    return inputs


def _logits(n, c, seed=0, labels=False):
    import torch
    gen = torch.Generator().manual_seed(seed)
    inputs = dict(S=(2 * torch.randn(n, c, generator=gen)).requires_grad_(),
                  T=2 * torch.randn(n, c, generator=gen))
    if labels:
        inputs['y'] = torch.randint(0, c, (n,), generator=gen)
    return inputs


def input_kinds(height: int, width: int) -> Dict[str, Tuple[str, Callable, Callable,
                                                            Tuple[str, ...]]]:
    """The inputs a declared loss comparison can take, at an image of ``height`` ×
    ``width``: per kind, (description, make_inputs, call(loss, inputs), grad_keys)."""
    import torch
    shapes = fpn_shapes(height, width)
    levels = len(shapes)
    fpn_text = f'5 levels {shapes[0][2]}×{shapes[0][3]} … {shapes[-1][2]}×{shapes[-1][3]}, ' \
               f'(2, 256, H, W)'
    # LD on every location of P3-P7 (4 edges each, reg_max 16 -> 17 bins): the region
    # VLR may cover; LDHead weights each edge by the max class score, avg_factor 4.
    rows = 4 * sum(n * h * w for n, _, h, w in shapes)

    def edge_logits():
        gen = torch.Generator().manual_seed(0)
        return dict(S=(3 * torch.randn(rows, 17, generator=gen)).requires_grad_(),
                    T=3 * torch.randn(rows, 17, generator=gen),
                    w=torch.rand(rows, generator=gen))

    kinds = {
        'fpn': (fpn_text, lambda: _feature_pairs(shapes),
                lambda loss, x: sum(loss(x[f'S{i}'], x[f'T{i}']) for i in range(levels)),
                tuple(f'S{i}' for i in range(levels))),
        'edge_logits': (f'({rows}, 17) edge logits (4 edges × every P3–P7 location × 2 '
                        'images)', edge_logits,
                        lambda loss, x: loss(x['S'], x['T'], weight=x['w'], avg_factor=4.0),
                        ('S', )),
    }
    for tag, (n, c), where in (
            ('roi', (1024, 81), 'RoI logits, 2 images × 512 RoIs, 80 classes + background'),
            ('in1k', (256, 1000), 'ImageNet logits, batch 256')):
        kinds[f'{tag}_logits'] = (f'({n}, {c}) {where}', lambda n=n, c=c: _logits(n, c),
                                  lambda loss, x: loss(x['S'], x['T']), ('S', ))
        kinds[f'{tag}_logits_labels'] = (
            f'({n}, {c}) {where}, labels', lambda n=n, c=c: _logits(n, c, labels=True),
            lambda loss, x: loss(x['S'], x['T'], x['y']), ('S', ))
    return kinds


#: The input kinds a method's ``cost`` entry may name (``input_kinds``).
INPUT_KINDS = ('fpn', 'edge_logits', 'roi_logits', 'roi_logits_labels', 'in1k_logits',
               'in1k_logits_labels')


def declared_cost_cases(root: Optional[str] = None) -> List[dict]:
    """Every loss comparison a method declares in its ``configs/**/benchmark.yml``
    (``cost`` list, read by ``quality.declarations``): name, inputs (a kind of
    ``INPUT_KINDS``), ours and reference (loss dicts), note."""
    from benchmarks.quality import declarations
    entries = []
    for path, entry in declarations('cost', root):
        if entry.get('inputs') not in INPUT_KINDS or \
                not {'name', 'ours', 'reference'} <= set(entry):
            raise ValueError(f'{path}: cost entry {entry.get("name")!r} needs name, ours, '
                             f'reference and inputs (one of {", ".join(INPUT_KINDS)})')
        entries.append(entry)
    return entries


def loss_cases(height: int, width: int) -> Dict[str, LossCase]:
    """The declared comparisons at an input of ``height`` × ``width`` (COCO: 800 × 1333),
    each loss built by the registry from its dict."""
    import kd_mmdet.models  # noqa: F401
    import mmdet.models  # noqa: F401
    import mmrazor.models  # noqa: F401
    from mmrazor.registry import MODELS

    kinds = input_kinds(height, width)
    cases = {}
    for entry in declared_cost_cases():
        text, make, call, grad_keys = kinds[entry['inputs']]
        ours, ref = MODELS.build(dict(entry['ours'])), MODELS.build(dict(entry['reference']))
        cases[entry['name']] = LossCase(
            entry['name'], text, make, lambda x, f=ours, c=call: c(f, x),
            lambda x, f=ref, c=call: c(f, x), grad_keys, entry['ours']['type'],
            entry['reference']['type'].replace('.', ' ', 1), entry.get('note', ''))
    return cases


def forward_backward(fn, inputs, grad_keys):
    """One loss forward and backward; gradients of the inputs cleared first."""
    for key in grad_keys:
        inputs[key].grad = None
    loss = fn(inputs)
    loss.backward()
    return loss


def compare_values(case: LossCase) -> Dict[str, float]:
    """Loss values of both and the largest differences of value and gradient."""
    inputs = case.make_inputs()
    ours = forward_backward(case.ours, inputs, case.grad_keys)
    grads = [inputs[k].grad.clone() for k in case.grad_keys]
    ref = forward_backward(case.ref, inputs, case.grad_keys)
    grad_diff = max(float((g - inputs[k].grad).abs().max())
                    for g, k in zip(grads, case.grad_keys))
    grad_scale = max(float(inputs[k].grad.abs().max()) for k in case.grad_keys)
    ours, ref = float(ours.detach()), float(ref.detach())
    return dict(ours=ours, ref=ref, value_diff=abs(ours - ref),
                grad_diff=grad_diff, grad_scale=grad_scale)


def time_case(case: LossCase, repeats: int, warmup: int) -> Tuple[float, float]:
    """Median forward+backward seconds of ours and of the reference, interleaved."""
    inputs = case.make_inputs()
    return tuple(median_times(
        [lambda: forward_backward(case.ours, inputs, case.grad_keys),
         lambda: forward_backward(case.ref, inputs, case.grad_keys)], repeats, warmup,
        min_time=0.5))


def child_loss_memory(name: str, impl: str, height: int, width: int) -> dict:
    """In a fresh process: peak RSS one forward+backward adds above its inputs (MiB)."""
    case = loss_cases(height, width)[name]
    fn = case.ours if impl == 'ours' else case.ref
    rss = PeakRSS()
    inputs = case.make_inputs()
    forward_backward(fn, inputs, case.grad_keys)  # warm-up: one-time allocations
    for key in case.grad_keys:
        inputs[key].grad = None
    gc.collect()
    rss.reset()
    base = rss.current()
    forward_backward(fn, inputs, case.grad_keys)
    return dict(peak_mb=rss.peak() - base, resettable=rss.resettable)


def bench_losses(names: Sequence[str], height: int, width: int, repeats: int, warmup: int,
                 threads: int) -> List[dict]:
    cases = loss_cases(height, width)
    rows = []
    for name in names:
        case = cases[name]
        print(f'[cost] loss {name}: {case.shapes}', file=sys.stderr, flush=True)
        values = compare_values(case)
        t_ours, t_ref = time_case(case, repeats, warmup)
        mem = {impl: run_child(['--child-loss', name, impl, '--input-size', str(height),
                                str(width)], threads)['peak_mb'] for impl in ('ours', 'ref')}
        rows.append(dict(name=name, shapes=case.shapes, ours_label=case.ours_label,
                         ref_label=case.ref_label, note=case.note, time_ours=t_ours,
                         time_ref=t_ref, speedup=t_ref / t_ours, mem_ours=mem['ours'],
                         mem_ref=mem['ref'], **values))
    return rows


# ---- part 2: steps ------------------------------------------------------------------
def fake_batch(task: str, img_size: int, batch: int, seed: int = 0) -> dict:
    """One data batch as the dataloader gives it: uint8 images and data samples."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, img_size, img_size), dtype=torch.uint8, generator=gen)
              for _ in range(batch)]
    samples = []
    if task == 'det':
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        for _ in range(batch):
            k = int(torch.randint(1, 4, (1,), generator=gen))
            size = torch.randint(img_size // 8, img_size // 2, (k, 2), generator=gen).float()
            x0y0 = torch.rand(k, 2, generator=gen) * (img_size - size)
            sample = DetDataSample(metainfo=dict(
                img_shape=(img_size, img_size), ori_shape=(img_size, img_size),
                scale_factor=(1.0, 1.0)))
            sample.gt_instances = InstanceData(
                bboxes=torch.cat([x0y0, x0y0 + size], dim=1),
                labels=torch.randint(0, 10, (k,), generator=gen))
            samples.append(sample)
    else:
        from mmpretrain.structures import DataSample
        for _ in range(batch):
            samples.append(DataSample().set_gt_label(int(torch.randint(0, 10, (1,),
                                                                      generator=gen))))
    return dict(inputs=inputs, data_samples=samples)


def build_model(config: str, **model_options):
    """``(cfg, model)`` of a config path relative to the repository root, initialised;
    a teacher checkpoint is not loaded (random weights cost the same). ``model_options``
    update the model config (e.g. ``teacher_precision='bf16'``)."""
    import kd_mmdet  # noqa: F401  registers kd_mmdet and applies kd_mmdet.compat
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(osp.join(REPO, config))
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    cfg.model.update(model_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every tensor's initialisation
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return cfg, model


def make_optim(model, cfg):
    """The config's optimizer wrapper (AdamW, gradient clipping) over the model."""
    from mmengine.optim import build_optim_wrapper
    return build_optim_wrapper(model, cfg.optim_wrapper)


def step_fns(config: str, task: str, img_size: int, batch: int,
             model_options: Optional[dict] = None, wrapper: Optional[str] = None):
    """``(step, model)``: ``step()`` is one Runner training step of the config's model
    (preprocessing, loss, backward, optimizer step) on the fixed batch. ``model_options``
    update the model config, ``wrapper`` replaces the optimizer wrapper's type."""
    cfg, model = build_model(config, **(model_options or {}))
    model.train()
    if wrapper:
        cfg.optim_wrapper.type = wrapper
    optim = make_optim(model, cfg)
    data = fake_batch(task, img_size, batch)
    return (lambda: model.train_step(data, optim)), model


def teacher_forward_fn(config: str, task: str, img_size: int, batch: int):
    """The teacher's own forward (``mode='tensor'``) under no_grad, on the fixed batch."""
    import torch
    cfg, model = build_model(config)
    model.eval()
    data = model.data_preprocessor(fake_batch(task, img_size, batch), False)

    def forward():
        with torch.no_grad():
            model(data['inputs'], data['data_samples'], mode='tensor')
    return forward


def step_peak_rss(step: Callable[[], object], steps: int) -> Tuple[float, float]:
    """``(rss, peak)`` in MiB: the process's RSS after one untimed step, and its peak
    over ``steps`` more (the peak-RSS mark reset in between)."""
    rss = PeakRSS()
    step()
    gc.collect()
    rss.reset()
    base = rss.current()
    for _ in range(max(steps, 1)):
        step()
    return base, rss.peak()


def child_step(name: str, img_size: int, batch: int, steps: int, warmup: int) -> dict:
    """In a fresh process: peak RSS of distillation steps, then the interleaved timing."""
    import torch
    from benchmarks.quality import PAIRS, runs_by_name
    run = runs_by_name()[name]
    pair = PAIRS[run.pair]
    distill, _ = step_fns(run.config, pair.task, img_size, batch)
    base, peak = step_peak_rss(distill, warmup)
    student, _ = step_fns(pair.baseline.config, pair.task, img_size, batch)
    teacher = teacher_forward_fn(pair.teacher.config, pair.task, img_size, batch)
    t_distill, t_student, t_teacher = median_times([distill, student, teacher], steps,
                                                   warmup)
    return dict(name=name, peak_mb=peak, base_mb=base, time_distill=t_distill,
                time_student=t_student, time_teacher=t_teacher,
                threads=torch.get_num_threads())


def child_student_memory(pair_key: str, img_size: int, batch: int, warmup: int) -> dict:
    """In a fresh process: peak RSS of training steps of a pair's student alone."""
    from benchmarks.quality import PAIRS
    pair = PAIRS[pair_key]
    student, _ = step_fns(pair.baseline.config, pair.task, img_size, batch)
    base, peak = step_peak_rss(student, warmup)
    return dict(pair=pair_key, peak_mb=peak, base_mb=base)


def bench_steps(names: Sequence[str], img_size: int, cls_img_size: int, steps: int,
                warmup: int, threads: int) -> List[dict]:
    from benchmarks.quality import PAIRS, runs_by_name
    runs = runs_by_name()
    student_mem: Dict[str, dict] = {}
    rows = []
    for name in names:
        run = runs[name]
        pair = PAIRS[run.pair]
        if not osp.isfile(osp.join(REPO, run.config)):
            rows.append(dict(name=name, method=run.method, impl=run.impl,
                             pair=pair.label, status='missing'))
            continue
        size, batch = (img_size, 8) if pair.task == 'det' else (cls_img_size, 64)
        print(f'[cost] step {name}: {run.config}', file=sys.stderr, flush=True)
        if run.pair not in student_mem:
            student_mem[run.pair] = run_child(
                ['--child-student', run.pair, '--img-size', str(size), '--batch', str(batch),
                 '--warmup', str(warmup)], threads)
        res = run_child(['--child-step', name, '--img-size', str(size), '--batch', str(batch),
                         '--steps', str(steps), '--warmup', str(warmup)], threads)
        ref = res['time_student'] + res['time_teacher']
        rows.append(dict(res, method=run.method, impl=run.impl, pair=pair.label,
                         batch=f'{batch} × {size} px', ratio=res['time_distill'] / ref,
                         student_peak_mb=student_mem[run.pair]['peak_mb'], status=None))
    return rows


# ---- part 3: precision --------------------------------------------------------------
#: Settings of the precision comparison: model options and the optimizer wrapper type.
PRECISION_SETTINGS: Dict[str, Tuple[dict, str]] = {
    'fp32': (dict(teacher_precision='fp32'), 'OptimWrapper'),
    'bf16 teacher': (dict(teacher_precision='bf16'), 'OptimWrapper'),
    'bf16 teacher + channels_last': (dict(teacher_precision='bf16',
                                          teacher_channels_last=True), 'OptimWrapper'),
    'full bf16 AMP': (dict(teacher_precision='bf16', teacher_channels_last=True),
                      'kd_mmdet.AutocastOptimWrapper'),
}
PRECISION_METHODS = ('cwd_fpn', 'dkd_roi')  # the toy GFL and Faster R-CNN pairs


def precision_fns(name: str, setting: str, img_size: int, batch: int):
    """``(step, teacher_forward)`` of one method run in one precision setting: a training
    step of the distillation model, and its teacher's forward as the step runs it
    (``teacher_context``: records, no_grad, autocast, channels_last; ``extract_feat``)."""
    from benchmarks.quality import PAIRS, runs_by_name
    run = runs_by_name()[name]
    options, wrapper = PRECISION_SETTINGS[setting]
    step, model = step_fns(run.config, PAIRS[run.pair].task, img_size, batch, options,
                           wrapper)
    inputs = model.data_preprocessor(fake_batch(PAIRS[run.pair].task, img_size, batch),
                                     True)['inputs']

    def teacher_forward():
        with model.teacher_context(inputs) as x:
            model.teacher.extract_feat(x)
    return step, teacher_forward


def child_precision_time(name: str, img_size: int, batch: int, steps: int,
                         warmup: int) -> dict:
    """In a fresh process: every setting's step and teacher forward, interleaved."""
    fns = {setting: precision_fns(name, setting, img_size, batch)
           for setting in PRECISION_SETTINGS}
    flat = [fn for pair in fns.values() for fn in pair]
    times = median_times(flat, steps, warmup)
    return {setting: dict(time_step=times[2 * i], time_teacher=times[2 * i + 1])
            for i, setting in enumerate(fns)}


def child_precision_memory(name: str, setting: str, img_size: int, batch: int,
                           warmup: int) -> dict:
    """In a fresh process: peak RSS of training steps in one setting."""
    step, _ = precision_fns(name, setting, img_size, batch)
    base, peak = step_peak_rss(step, warmup)
    return dict(peak_mb=peak, base_mb=base)


def bench_precision(names: Sequence[str], img_size: int, batch: int, steps: int,
                    warmup: int, threads: int) -> List[dict]:
    from benchmarks.quality import PAIRS, runs_by_name
    rows = []
    for name in names:
        run = runs_by_name()[name]
        print(f'[cost] precision {name}: {run.config}', file=sys.stderr, flush=True)
        times = run_child(['--child-precision-time', name, '--img-size', str(img_size),
                           '--batch', str(batch), '--steps', str(steps),
                           '--warmup', str(warmup)], threads)
        ref = times['fp32']['time_step']
        for setting in PRECISION_SETTINGS:
            mem = run_child(['--child-precision-memory', name, setting, '--img-size',
                             str(img_size), '--batch', str(batch), '--warmup',
                             str(warmup)], threads)
            rows.append(dict(times[setting], **mem, name=name, method=run.method,
                             pair=PAIRS[run.pair].label, setting=setting,
                             batch=f'{batch} × {img_size} px',
                             step_vs_fp32=times[setting]['time_step'] / ref))
    return rows


#: Targets of the precision comparison: step time relative to fp32.
PRECISION_TARGETS = {'bf16 teacher + channels_last': 0.75, 'full bf16 AMP': 0.6}


# ---- report -------------------------------------------------------------------------
def fmt_ms(seconds: float) -> str:
    return f'{1000 * seconds:.1f}'


def loss_table(rows: List[dict]) -> str:
    from benchmarks.quality import to_markdown
    header = ['loss', 'shapes', 'ours', 'reference', 'fwd+bwd ms (ours / ref)',
              'speed ours vs ref', 'peak MiB (ours / ref)', 'value (ours / ref)',
              'max |Δ grad| / max |grad|']
    body = []
    for r in rows:
        body.append([r['name'], r['shapes'], r['ours_label'], r['ref_label'],
                     f'{fmt_ms(r["time_ours"])} / {fmt_ms(r["time_ref"])}',
                     f'{r["speedup"]:.2f}×', f'{r["mem_ours"]:.1f} / {r["mem_ref"]:.1f}',
                     f'{r["ours"]:.6g} / {r["ref"]:.6g}',
                     f'{r["grad_diff"] / max(r["grad_scale"], 1e-30):.1e}'])
    return to_markdown(header, body)


def step_table(rows: List[dict]) -> str:
    from benchmarks.quality import to_markdown
    header = ['method', 'implementation', 'pair', 'batch', 'distill step ms',
              'student step ms', 'teacher fwd ms', 'ratio', 'peak RSS MiB (distill / student)']
    body = []
    for r in rows:
        if r.get('status'):
            body.append([r['name'], r['impl'], r['pair'], '—', r['status'], '—', '—', '—',
                         '—'])
            continue
        body.append([f'{r["method"]} ({r["name"]})', r['impl'], r['pair'], r['batch'],
                     fmt_ms(r['time_distill']), fmt_ms(r['time_student']),
                     fmt_ms(r['time_teacher']), f'{r["ratio"]:.2f}',
                     f'{r["peak_mb"]:.0f} / {r["student_peak_mb"]:.0f}'])
    return to_markdown(header, body)


def precision_table(rows: List[dict]) -> str:
    from benchmarks.quality import to_markdown
    header = ['method', 'pair', 'batch', 'setting', 'teacher fwd ms', 'step ms',
              'step vs fp32', 'peak RSS MiB']
    body = [[f'{r["method"]} ({r["name"]})', r['pair'], r['batch'], r['setting'],
             fmt_ms(r['time_teacher']), fmt_ms(r['time_step']), f'{r["step_vs_fp32"]:.2f}×',
             f'{r["peak_mb"]:.0f}'] for r in rows]
    return to_markdown(header, body)


def verdicts(loss_rows: List[dict], step_rows: List[dict],
             precision_rows: Sequence[dict] = ()) -> List[str]:
    out = []
    for r in precision_rows:
        target = PRECISION_TARGETS.get(r['setting'])
        if target is not None:
            out.append(f'{r["name"]} {r["setting"]}: step {r["step_vs_fp32"]:.2f}× of fp32 '
                       f'(target ≤ {target}: '
                       f'{"met" if r["step_vs_fp32"] <= target else "MISSED"})')
    for r in loss_rows:
        speed = 'met' if r['speedup'] >= 1.0 else 'MISSED'
        mem = 'met' if r['mem_ours'] <= r['mem_ref'] else 'MISSED'
        out.append(f'{r["name"]}: speed {r["speedup"]:.2f}× of the reference (target ≥ 1.0: '
                   f'{speed}); memory {r["mem_ours"]:.0f} vs {r["mem_ref"]:.0f} MiB '
                   f'(target ≤: {mem})')
    for r in step_rows:
        if r.get('status'):
            continue
        out.append(f'{r["name"]}: step ratio {r["ratio"]:.2f} (target ≤ 1.10: '
                   f'{"met" if r["ratio"] <= 1.10 else "MISSED"})')
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='input 200×333 for the losses, 3 repeats / steps, a few '
                        'methods (cwd_fpn, ld_main, kd)')
    parser.add_argument('--part', nargs='+', choices=['losses', 'steps', 'precision'],
                        default=['losses', 'steps', 'precision'])
    parser.add_argument('--losses', nargs='+', help='loss comparisons (default: all): cwd, '
                        'mgd, pkd, ld, kd_roi, kd_in1k, dkd_roi, dkd_in1k')
    parser.add_argument('--methods', nargs='+', help='method runs of benchmarks/quality.py '
                        '(default: all)')
    parser.add_argument('--input-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='input of the loss shapes (default 800 1333)')
    parser.add_argument('--img-size', type=int, default=128, help='detection step images')
    parser.add_argument('--cls-img-size', type=int, default=32)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--repeats', type=int, help='loss calls timed (default 20)')
    parser.add_argument('--steps', type=int, help='training steps timed (default 10)')
    parser.add_argument('--warmup', type=int, help='untimed calls first (default 3)')
    parser.add_argument('--threads', type=int, default=2, help='torch threads')
    parser.add_argument('--out-json', help='also write every number to this JSON file')
    # Used by the parent to run one measurement in a fresh process.
    parser.add_argument('--child-loss', nargs=2, help=argparse.SUPPRESS)
    parser.add_argument('--child-step', help=argparse.SUPPRESS)
    parser.add_argument('--child-student', help=argparse.SUPPRESS)
    parser.add_argument('--child-precision-time', help=argparse.SUPPRESS)
    parser.add_argument('--child-precision-memory', nargs=2, help=argparse.SUPPRESS)
    parser.add_argument('--precision-methods', nargs='+', default=list(PRECISION_METHODS),
                        help='method runs of the precision comparison (default: '
                        f'{" ".join(PRECISION_METHODS)})')
    args = parser.parse_args(argv)
    args.input_size = args.input_size or ((200, 333) if args.quick else (800, 1333))
    args.repeats = args.repeats or (3 if args.quick else 20)
    args.steps = args.steps or (3 if args.quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    h, w = args.input_size
    if args.child_loss:
        print(json.dumps(child_loss_memory(*args.child_loss, h, w)))
        return 0
    if args.child_step:
        print(json.dumps(child_step(args.child_step, args.img_size, args.batch, args.steps,
                                    args.warmup)))
        return 0
    if args.child_precision_time:
        print(json.dumps(child_precision_time(args.child_precision_time, args.img_size,
                                              args.batch, args.steps, args.warmup)))
        return 0
    if args.child_precision_memory:
        print(json.dumps(child_precision_memory(*args.child_precision_memory, args.img_size,
                                                args.batch, args.warmup)))
        return 0
    if args.child_student:
        print(json.dumps(child_student_memory(args.child_student, args.img_size, args.batch,
                                              args.warmup)))
        return 0

    import platform
    from benchmarks.quality import runs_by_name
    loss_rows, step_rows, precision_rows = [], [], []
    start = time.time()
    if 'losses' in args.part:
        names = args.losses or list(loss_cases(h, w))
        loss_rows = bench_losses(names, h, w, args.repeats, args.warmup, args.threads)
    if 'steps' in args.part:
        default = [n for n, r in runs_by_name().items() if r.quick and r.impl == 'kd_mmdet'] \
            if args.quick else list(runs_by_name())
        step_rows = bench_steps(args.methods or default, args.img_size, args.cls_img_size,
                                args.steps, args.warmup, args.threads)
    if 'precision' in args.part:
        precision_rows = bench_precision(args.precision_methods, args.img_size, args.batch,
                                         args.steps, args.warmup, args.threads)
    command = ' '.join(['python benchmarks/cost.py'] + list(sys.argv[1:] if argv is None
                                                          else argv))
    parts = [f'# Cost benchmark ({time.strftime("%Y-%m-%d")})', '',
             f'Command: `{command}`',
             f'Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
             f'torch {torch.__version__}, {args.threads} threads; '
             f'{time.time() - start:.0f} s.']
    if loss_rows:
        parts += ['', f'## Losses (input {h}×{w}; median of {args.repeats}, ms)', '',
                  loss_table(loss_rows)]
    if step_rows:
        parts += ['', f'## Training steps (median of {args.steps})', '', step_table(step_rows)]
    if precision_rows:
        parts += ['', f'## Precision (median of {args.steps} steps; teacher forward as the '
                  'step runs it)', '', precision_table(precision_rows)]
    parts += ['', '## Targets', ''] + [f'- {v}' for v in verdicts(loss_rows, step_rows,
                                                                  precision_rows)]
    print('\n'.join(parts))
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(dict(losses=loss_rows, steps=step_rows, precision=precision_rows,
                           args=vars(args)), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
