"""Student quality of every distillation method on the bundled digits sets, in one run.

    python benchmarks/quality.py                       # the full run (docs/benchmarks.md)
    python benchmarks/quality.py --quick               # a smoke run of a few minutes
    python benchmarks/quality.py --dry-run             # the commands and a time estimate
    python benchmarks/quality.py --report-only         # the tables from finished runs
    python benchmarks/quality.py --pretrain-only       # only the backbone pretraining

Detection follows mmdet's COCO recipe at toy scale. First the pretraining stage, the
stand-in for ImageNet: both detection backbones (``BACKBONES``: the teacher's ResNet-50,
the student's ResNet-18 at 32 base channels) are trained once as 10-way digit
classifiers on crops cut from detection-style images (``tools/make_digits_crops.py``,
``benchmarks/configs/pretrain/``; top-1 every epoch: the curve) and cached under
``<work-root>/pretrain``. Every detection run then trains ``<work-root>/configs/<name>.py``,
its config with the trained backbone loaded through ``init_cfg=dict(type='Pretrained',
prefix='backbone.', checkpoint=...)`` and ``frozen_stages=1, norm_eval=True``
(``write_pretrained_config``); ``--no-pretrained`` trains from scratch as the toy configs
do. The teacher of each pair is trained once, validated every ``teacher_val_interval``
epochs (its mAP curve), and cached; then, for every seed, the student alone (the
baseline) and the student with each method, on the pair the method is meant for, on
the same data and schedule; where a peer implements the same method (mmrazor's
``ChannelWiseDivergence``, ``MGDLoss`` + ``MGDConnector``, ``PKDLoss``, mmdet's
``LDHead``) the peer runs on the same pair too.
Classification (top-1 on the digits classification set) works the same way. Each method
declares its runs in its own ``configs/<method>/benchmark.yml`` (``declared_runs``); a
config that does not exist yet is listed as missing.

Every run is ``python tools/train.py CONFIG --epochs E --work-dir W --cfg-options ...`` in
a subprocess with ``OMP_NUM_THREADS=--threads``, ``--jobs`` of them at a time (default:
as many as the cores hold at ``--threads`` each, at most 4). A run starts once what it
loads exists: a detection teacher after its pretrained backbone, a distilled student
after its teacher (``Jobs``); on 2 cores two 1-thread runs side by side train 1.7x as
many steps per second as one 2-thread run (small models scale poorly over threads). A run
whose final checkpoint exists is not repeated, so an interrupted benchmark resumes where
it stopped.
Work dirs: ``<work-root>/teachers/<name>`` and ``<work-root>/<seed>/<name>``. ``--seeds``
replicate the detection and classification runs on fixed backbones and teachers;
``--student-pretrain-seed`` / ``--teacher-pretrain-seed`` (in a new work root) replicate
the pretraining as well, which moved the students more than the seeds do. A trained
detection run is then scored once on the test split (``Settings.num_test`` images,
``python tools/test.py ... --out-metrics <work dir>/test_metrics.json``), unless that
file exists.

``--precision`` is the precision of every run (default ``amp``): ``fp32``; ``bf16t``, a
bf16 channels_last teacher (``teacher_precision``, ``teacher_channels_last``); ``amp``,
that teacher plus the whole step under ``kd_mmdet.AutocastOptimWrapper`` (bf16
autocast). ``--precisions`` trains every student run once more per other precision, on
the same teachers and seeds: those runs get the work dir ``<seed>/<name>@<precision>``
and a table comparing each with the benchmark's own precision per seed.
``--sweep 0.1 0.3 3 10`` trains each selected kd_mmdet method of the first seed once
more per factor with every distillation loss weight times it
(``<work-root>/sweep/<seed>/<name>_x<factor>``, ``distill_weight_options``);
``--sweep-keys kd_weight`` scales only those weight keys (``<name>_kd_weight_x<factor>``),
``--sweep-seeds 0 1 2`` sweeps on those of ``--seeds``. The report
(per-method table, reproduction tables, targets, commands) is printed and written to
``<work-root>/report.md``, the raw numbers to ``<work-root>/results.json``.
"""
import argparse
import importlib.util
import json
import math
import os
import os.path as osp
import shlex
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MISSING = '—'

if __package__:
    from .stats import Delta, by_seed, paired_delta
else:  # run as a script: benchmarks/ is on sys.path
    from stats import Delta, by_seed, paired_delta


# ---- what runs ---------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One training run of the benchmark.

    Args:
        name: work-dir name and table key.
        config: config path relative to the repository root.
        pair: key of the teacher–student pair in ``PAIRS``.
        method: label of the method in the tables.
        impl: who implements the method: ``kd_mmdet``, ``mmrazor`` or ``mmdet``.
        peer_of: for a peer implementation, the ``name`` of our run of the same method.
        recipe_change: how the toy config's weights or levels differ from the method's
            recipe (empty: they do not), for the headline table.
        diagnosis: why the method stays below +1.0 in the benchmark, once settled.
        diagnosis_only: a run that tests a diagnosis, trained only when named.
        quick: in the --quick smoke run.
    """
    name: str
    config: str
    pair: str
    method: str
    impl: str = 'kd_mmdet'
    peer_of: Optional[str] = None
    recipe_change: str = ''
    diagnosis: str = ''
    diagnosis_only: bool = False
    quick: bool = False


@dataclass(frozen=True)
class Pair:
    """A teacher–student pair: its label, task, teacher run and baseline (student) run."""
    label: str
    task: str  # 'det' or 'cls'
    teacher: Run
    baseline: Run


_GFL_TEACHER = Run('gfl_teacher', 'configs/toy/gfl_teacher_digits.py', 'gfl', 'teacher')
PAIRS: Dict[str, Pair] = {
    'gfl': Pair('GFL R50→R18', 'det', _GFL_TEACHER,
                Run('gfl_student', 'configs/toy/gfl_student_digits.py', 'gfl', 'baseline')),
    'frcnn': Pair('Faster R-CNN R50→R18', 'det',
                  Run('frcnn_teacher', 'configs/toy/faster-rcnn_teacher_digits.py', 'frcnn',
                      'teacher'),
                  Run('frcnn_student', 'configs/toy/faster-rcnn_student_digits.py', 'frcnn',
                      'baseline')),
    # The GFL pair's teacher (the same run and checkpoint) with a student whose neck and
    # head are as wide as the teacher's, so that they can start from the teacher's: the
    # pair of DIAGNOSIS_RUNS only.
    'gfl_wide': Pair('GFL R50→R18, neck and head 128', 'det', _GFL_TEACHER,
                     Run('gfl_student_wide', 'benchmarks/configs/gfl_student-wide_digits.py',
                         'gfl_wide', 'baseline')),
    'cls': Pair('ResNet-20→ResNet-8', 'cls',
                Run('cls_teacher', 'configs/cls/toy/resnet20_digits.py', 'cls', 'teacher'),
                Run('cls_student', 'configs/cls/toy/resnet8_digits.py', 'cls', 'baseline')),
}

# The stand-in for ImageNet pretraining: each detection backbone of the toy pairs (both
# detection pairs share them: configs/_base_/models/toy_detectors.py) trained once as a
# 10-way digit classifier on crops cut from detection-style images
# (kd_mmdet.datasets.digits_crops), then loaded by every detection run of the pair with
# init_cfg=dict(type='Pretrained', prefix='backbone.'), frozen_stages=1, norm_eval=True.
BACKBONES: Dict[str, Tuple[str, str]] = {
    'teacher': ('pretrain_resnet50', 'benchmarks/configs/pretrain/resnet50_digits-crops.py'),
    'student': ('pretrain_resnet18-w32',
                'benchmarks/configs/pretrain/resnet18-w32_digits-crops.py'),
}

def declarations(key: str, root: Optional[str] = None) -> List[Tuple[str, dict]]:
    """``(path, entry)`` of every entry of list ``key`` (``quality`` or ``cost``) that a
    method declares in its own ``configs/**/benchmark.yml``, in folder order: the
    benchmarks name no method themselves."""
    import glob

    import yaml
    root = root or osp.join(REPO, 'configs')
    out = []
    for path in sorted(glob.glob(osp.join(root, '**', 'benchmark.yml'), recursive=True)):
        with open(path) as f:
            entries = (yaml.safe_load(f) or {}).get(key) or []
        out += [(osp.relpath(path, REPO), entry) for entry in entries]
    return out


def declared_runs(root: Optional[str] = None) -> List[Run]:
    """Every quality run the methods declare (``declarations('quality')``)."""
    runs, seen = [], {}
    for path, entry in declarations('quality', root):
        unknown = set(entry) - {f.name for f in fields(Run)}
        if unknown or entry.get('pair') not in PAIRS:
            raise ValueError(f'{path}: run {entry.get("name")!r}: unknown key(s) '
                             f'{sorted(unknown)} or pair {entry.get("pair")!r} '
                             f'(pairs: {", ".join(PAIRS)})')
        if entry['name'] in seen:
            raise ValueError(f'{path}: run {entry["name"]!r} is declared in '
                             f'{seen[entry["name"]]} too')
        seen[entry['name']] = path
        runs.append(Run(**entry))
    return runs


_DECLARED = declared_runs()
DET_RUNS: List[Run] = [r for r in _DECLARED if PAIRS[r.pair].task == 'det'
                       and not r.diagnosis_only]
# Runs that test a diagnosis (declared ``diagnosis_only``), trained only when --methods
# names them.
DIAGNOSIS_RUNS: List[Run] = [r for r in _DECLARED if r.diagnosis_only]
CLS_RUNS: List[Run] = [r for r in _DECLARED if PAIRS[r.pair].task == 'cls'
                       and not r.diagnosis_only]


def runs_by_name() -> Dict[str, Run]:
    """Every method run (detection, diagnosis and classification) by its name."""
    return {r.name: r for r in DET_RUNS + DIAGNOSIS_RUNS + CLS_RUNS}


# --precisions: the --cfg-options of each precision, for distillation runs (the teacher
# options) and for student baselines (the optimizer wrapper only). fp32 states its options
# too, so that it stays fp32 whatever a config's default is.
PRECISIONS: Dict[str, Tuple[List[str], List[str]]] = {
    'fp32': (['model.teacher_precision=fp32', 'model.teacher_channels_last=False'],
             ['optim_wrapper.type=OptimWrapper']),
    'bf16t': (['model.teacher_precision=bf16', 'model.teacher_channels_last=True'],
              ['optim_wrapper.type=OptimWrapper']),
    'amp': (['model.teacher_precision=bf16', 'model.teacher_channels_last=True'],
            ['optim_wrapper.type=kd_mmdet.AutocastOptimWrapper']),
}


def precision_options(precision: str, distill: bool) -> List[str]:
    """``--cfg-options`` of a student run in ``precision`` (see ``PRECISIONS``)."""
    teacher, step = PRECISIONS[precision]
    return (teacher if distill else []) + step


def step_precision(precision: str, ref: str = 'fp32') -> str:
    """The precision a student baseline runs in: only the step's options apply to it, so
    ``bf16t``'s baseline is fp32's. ``ref`` is the benchmark's own precision (its runs
    keep plain names): a precision whose step equals ``ref``'s shares ``ref``'s baseline.
    """
    step = PRECISIONS[precision][1]
    for candidate in (ref, 'fp32'):
        if PRECISIONS[candidate][1] == step:
            return candidate
    return precision


def variant(name: str, precision: str, ref: str = 'fp32') -> str:
    """Work-dir and table name of a run in ``precision``: runs in the benchmark's own
    precision ``ref`` keep the plain name, others get ``@<precision>``."""
    return name if precision == ref else f'{name}@{precision}'


# Runs of the --quick smoke run: those their methods declare ``quick``.
QUICK_METHODS = tuple(r.name for r in _DECLARED if r.quick)

# The COCO numbers kept per detection run (fractions, as CocoMetric logs them).
DET_METRIC_KEYS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75')

# What each task is scored by: the logged key and the factor to percent.
METRICS = {'det': ('coco/bbox_mAP', 100.0, 'box mAP'),
           'cls': ('accuracy/top1', 1.0, 'top-1')}

# Seconds per training iteration at 2 threads (batch 8 at 96 px for detection, batch 64
# at 32 px for classification), for --dry-run's estimate only: medians of the step times
# mmengine logged in the full run of docs/benchmarks.md (idle machine). GFL: R50 teacher
# 0.31, student 0.066, distillation 0.11-0.13; Faster R-CNN: teacher 0.73, student 0.34,
# DKD 0.45; classification: ResNet-20 teacher 0.092, ResNet-8 student 0.045, KD 0.066,
# OFA 0.072, BLD 0.110; the wide GFL student of DIAGNOSIS_RUNS 0.087 alone, 0.15-0.16
# with inheritance or FGD.
SEC_PER_ITER = {'gfl_teacher': 0.31, 'gfl_student': 0.066, 'gfl': 0.125,
                'frcnn_teacher': 0.73, 'frcnn_student': 0.34, 'frcnn': 0.45,
                'cls_teacher': 0.092, 'cls_student': 0.045, 'cls': 0.068, 'bld': 0.110,
                'gfl_student_wide': 0.09, 'gfl_wide': 0.15}
REF_IMG_SIZE = 96  # detection image side of SEC_PER_ITER
# Step time grows slower than the pixel count on these small images: at 96 px a step
# took 0.66-0.77 of its 128 px time (benchmarks/cost.py), (96/128)**1.25 = 0.70.
PIXEL_EXPONENT = 1.25
SEC_PER_RUN = 15.0  # process start, model build and validation, per run
# A run at t threads takes (2 / t) ** THREAD_EXPONENT of its 2-thread time: 320 steps of
# the GFL pair's CWD run took 56 s alone at 2 threads and 66 s at 1 thread beside a
# second 1-thread run, 1.18 = 2 ** 0.24 (the case of --jobs 2 --threads 1 on 2 cores).
THREAD_EXPONENT = 0.24
# A detection run's test pass (tools/test.py on the test split): process start and model
# build, then per image.
SEC_PER_TEST, SEC_PER_TEST_IMAGE = 12.0, 0.02


# ---- settings ------------------------------------------------------------------------
@dataclass
class Settings:
    """Everything that decides what a run computes (a work root holds one setting).

    The defaults are the full benchmark, which follows mmdet's COCO recipe at toy scale
    (docs/benchmarks.md, "Pretrained benchmark"): both detection backbones pretrained as
    digit classifiers on 10,000 / 2,000 crops of 40 px (teacher ResNet-50 12 epochs,
    student ResNet-18 8), then loaded with ``frozen_stages=1, norm_eval=True``; detection
    on 2,560 / 256 images of 96 px, every run scored on 1,024 test images (on 256 val
    images the baseline's seeds spread by 1.0 mAP, on these 0.5); GFL teacher 12 epochs
    (validated every 2: its curve),
    students 3; Faster R-CNN teacher 4, students 2 (its step costs 5x GFL's on CPU).
    Many images seen few times rather than few images seen many times: a teacher trained
    48 epochs on 640 images memorised them (87.5 box mAP and 99.4 % class accuracy at
    the positives on its training images, 34.4 on val), so on the images distillation
    runs on its outputs were the labels and the methods that copy them lowered the
    student; the same iterations on 2,560 images give a better teacher (45.1) whose
    outputs there are far less a copy of the labels (docs/benchmarks.md, "Why 2,560
    images"). Every run
    under bf16 autocast (``amp``, about 0.6x the fp32 step here, student mAP equal to
    fp32's within the seed spread: docs/benchmarks.md, "Mixed precision");
    classification as before: 3,000 / 1,000 images, students and teacher 15 epochs (8
    epochs on 2,000 images left the ResNet-8 baseline at 19 % top-1).
    """
    num_train: int = 2560
    num_val: int = 256
    # Detection scores: every run's final checkpoint evaluated on a test split of this
    # many images (val handwriting, other images), never looked at during training; val
    # gives the teachers' curves. 0: score on val.
    num_test: int = 1024
    img_size: int = 96
    epochs: int = 3
    teacher_epochs: int = 12
    frcnn_epochs: int = 2
    frcnn_teacher_epochs: int = 8
    cls_num_train: int = 3000
    cls_num_val: int = 1000
    # Classification scores: a test split of this many images from the test pool of
    # handwriting, as for detection (0: score on val).
    cls_num_test: int = 1000
    cls_epochs: int = 15
    cls_teacher_epochs: int = 15
    keep_all_scores: bool = False  # score_thr 0: untrained smoke-run models keep boxes
    extra: List[str] = field(default_factory=list)  # further --cfg-options
    # The precision of every run (teachers, pretraining, students); see PRECISIONS.
    precision: str = 'amp'
    # Detection backbones pretrained as digit classifiers (BACKBONES), loaded with
    # frozen_stages=1, norm_eval=True as mmdet's COCO configs load ImageNet weights.
    pretrained: bool = True
    crop_num_train: int = 10000
    crop_num_val: int = 2000
    crop_size: int = 40
    teacher_pretrain_epochs: int = 12
    student_pretrain_epochs: int = 8
    # randomness.seed of each backbone's pretraining: replicates over the pretraining, the
    # largest source of spread between two work roots (docs/benchmarks.md, "A second full
    # run"); the detection seeds (--seeds) leave it fixed.
    teacher_pretrain_seed: int = 0
    student_pretrain_seed: int = 0
    # Validate detection teachers every this many epochs: their mAP curve.
    teacher_val_interval: int = 2  # 0: only at the end
    # Every baseline also trains at these multiples of its schedule (x1 is the standard
    # one): the plateau check, doubling the schedule must move the baseline by <= 1.5 mAP.
    baseline_schedules: List[int] = field(default_factory=lambda: [1, 2])
    # Validate baselines every this many epochs: the curves the schedule is chosen from.
    baseline_val_interval: int = 1  # 0: only at the end

    def data_dir(self, work_root: str, task: str) -> str:
        if task == 'crops':
            return osp.join(work_root, 'data', f'digits_crops_{self.crop_num_train}-'
                            f'{self.crop_num_val}_{self.crop_size}px_from{self.img_size}px')
        if task == 'det':
            test = f'-{self.num_test}' if self.num_test else ''
            return osp.join(work_root, 'data', f'digits_det_{self.num_train}-{self.num_val}'
                            f'{test}_{self.img_size}px')
        test = f'-{self.cls_num_test}' if self.cls_num_test else ''
        return osp.join(work_root, 'data',
                        f'digits_cls_{self.cls_num_train}-{self.cls_num_val}{test}')

    def num_test_of(self, task: str) -> int:
        """Images of the test split of ``task``'s data (0: no test split)."""
        return self.num_test if task == 'det' else self.cls_num_test

    def epochs_of(self, run: Run, teacher: bool, schedule: int = 1) -> int:
        """Epochs of ``run``; a student's times the ``schedule`` multiple."""
        if PAIRS[run.pair].task == 'cls':
            return self.cls_teacher_epochs if teacher else self.cls_epochs * schedule
        if run.pair == 'frcnn':
            return self.frcnn_teacher_epochs if teacher else self.frcnn_epochs * schedule
        return self.teacher_epochs if teacher else self.epochs * schedule


def schedule_name(name: str, schedule: int) -> str:
    """Work-dir and table name of a run at a ``schedule`` multiple: x1 keeps the plain
    name, others get ``_x<multiple>``."""
    return name if schedule == 1 else f'{name}_x{schedule}'


# ---- pure helpers (tested in tests/benchmarks) -------------------------------------
def mean_spread(values: Sequence[float]) -> Tuple[Optional[float], Optional[float]]:
    """Mean and sample standard deviation (n - 1); the spread is None for one value."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def gap_closed(student: Optional[float], baseline: Optional[float],
               teacher: Optional[float]) -> Optional[float]:
    """Share (in %) of the teacher–baseline gap the distilled student closes.

    ``100 * (student - baseline) / (teacher - baseline)``; None when a value is missing
    or the teacher is not above the baseline (there is no gap to close).
    """
    if student is None or baseline is None or teacher is None or teacher <= baseline:
        return None
    return 100.0 * (student - baseline) / (teacher - baseline)


# A classification run whose task loss stays at or above this share of ln(classes)
# (chance: the loss of a uniform prediction) through a whole epoch after its warm-up has
# not started learning: it is failed, not scored (a ResNet-8 seed sat at chance for six
# of fifteen epochs and finished 27 points below the other seeds).
STALL_FRACTION = 0.95
NUM_CLASSES = 10


def warmup_iters(config_path: str) -> int:
    """The iterations of the config's iteration-based linear warm-up (0 without one)."""
    from mmengine.config import Config
    for sched in Config.fromfile(config_path).get('param_scheduler') or []:
        if sched.get('type') == 'LinearLR' and not sched.get('by_epoch', True):
            return int(sched.get('end', 0))
    return 0


def run_config(work_dir: str, config_path: str) -> str:
    """The config a run trained with: the one mmengine's Runner wrote into its work dir
    (``--cfg-options`` applied, e.g. a longer warm-up), else ``config_path``."""
    name = osp.basename(config_path)
    dumped = osp.join(work_dir, name)
    return dumped if osp.isfile(dumped) else config_path


def stalled_epochs(rows: Sequence[dict], warmup: int,
                   fraction: float = STALL_FRACTION) -> List[int]:
    """The epochs after the warm-up whose every logged task loss is at least ``fraction``
    of ln(``NUM_CLASSES``): the run sat at chance through them.

    Args:
        rows: mmengine's logged scalars (``vis_data/scalars.json``): training rows carry
            ``epoch``, ``step`` (the iteration) and the loss; a distillation run's task
            loss is ``student.loss``, a plain run's ``loss``.
        warmup: iterations of the warm-up; rows at or before it are not judged.
    """
    threshold = fraction * math.log(NUM_CLASSES)
    by_epoch: Dict[int, List[float]] = {}
    for r in rows:
        if 'epoch' not in r or r.get('step', 0) <= warmup:
            continue
        loss = r.get('student.loss', r.get('loss'))
        if loss is not None:
            by_epoch.setdefault(int(r['epoch']), []).append(float(loss))
    return [e for e, losses in sorted(by_epoch.items()) if min(losses) >= threshold]


def fmt_num(value: Optional[float], fmt: str = '{:.1f}') -> str:
    return MISSING if value is None else fmt.format(value)


def fmt_mean(values: Sequence[float]) -> str:
    """``34.3 ± 0.4 (2)``: mean ± sample std over seeds, and the number of seeds."""
    values = [v for v in values if v is not None]
    mean, spread = mean_spread(values)
    if mean is None:
        return MISSING
    text = f'{mean:.1f}' if spread is None else f'{mean:.1f} ± {spread:.1f}'
    return f'{text} ({len(values)})'


def to_markdown(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def _row_epoch(row: dict) -> Optional[int]:
    """The epoch a logged row belongs to: a training row carries ``epoch``; a validation
    row of an epoch-based loop carries the epoch as its ``step``."""
    value = row.get('epoch', row.get('step'))
    return None if value is None else int(value)


def read_scalars(work_dir: str) -> List[dict]:
    """The rows of ``vis_data/scalars.json`` (mmengine's log of every logged and validated
    scalar) of the run in ``work_dir``, its attempts joined: an attempt that resumed at
    epoch e replaces what earlier attempts logged from epoch e on (the part an
    interruption cut short after the last checkpoint). Empty when there is no run."""
    rows: List[dict] = []
    for run in load_repro_table().run_dirs(work_dir):
        with open(osp.join(run, 'vis_data', 'scalars.json')) as f:
            part = [json.loads(line) for line in f if line.strip()]
        started = [r['epoch'] for r in part if 'epoch' in r]
        if started:
            rows = [r for r in rows if (_row_epoch(r) or 0) < min(started)]
        rows += part
    return rows


def resumable(cmd: List[str], work_dir: str, dry_run: bool = False) -> List[str]:
    """The training command ``cmd`` continued from where an earlier attempt stopped.

    Every run saves a checkpoint each epoch (``train_command``), so an interrupted run
    resumes from its last one (``tools/train.py --resume``, mmengine's ``last_checkpoint``)
    instead of starting over (a validation the interruption cut off is not repeated: the
    run's curve then lacks that epoch). An attempt that saved nothing leaves only logs:
    they are removed (unless ``dry_run``) so that the run's scalars and wall time are its
    own.
    """
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return list(cmd) + ['--resume']
    if not dry_run:
        import shutil
        for stale in load_repro_table().run_dirs(work_dir):
            shutil.rmtree(stale)
    return list(cmd)


def read_metric(work_dir: str, key: str) -> Dict[str, Optional[float]]:
    """The last logged ``key`` of the newest run in ``work_dir`` and ``teacher.<key>``.

    Returns:
        ``{'value': ..., 'teacher': ..., 'epoch': last trained epoch}``; None where the
        run logged no such number.
    """
    out: Dict[str, Optional[float]] = dict(value=None, teacher=None, epoch=None)
    rows = read_scalars(work_dir)
    vals = [r for r in rows if key in r]
    if vals:
        out['value'] = vals[-1][key]
        out['teacher'] = vals[-1].get(f'teacher.{key}')
    epochs = [r['epoch'] for r in rows if 'loss' in r and 'epoch' in r]
    out['epoch'] = max(epochs) if epochs else None
    return out


_REPRO_TABLE_LOCK = threading.Lock()


def load_repro_table():
    """``tools/repro_table.py`` as a module (run_dirs, wall_time, build_table, ...);
    loaded once, also when runs side by side ask for it at the same time."""
    with _REPRO_TABLE_LOCK:
        module = sys.modules.get('kd_mmdet_repro_table')
        if module is None:
            spec = importlib.util.spec_from_file_location(
                'kd_mmdet_repro_table', osp.join(REPO, 'tools', 'repro_table.py'))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules['kd_mmdet_repro_table'] = module
    return module


def summarize(results: List[dict], pair: Pair, ref: str = 'fp32'
              ) -> Tuple[List[List[str]], List[str]]:
    """Table rows and target verdicts of one pair from per-run, per-seed results.

    A method's Δ is paired by seed with the baseline of its step precision
    (``stats.paired_delta``; a seed missing on either side is dropped from both), shown
    with its 95 % interval; "≥ +1.0" means a mean of at least 1.0 with the interval above
    0 (``stats.Delta.above``). The gap closed is that Δ over the teacher's lead on the
    same seeds' baseline.

    Args:
        results: dicts with ``name``, ``method``, ``impl``, ``peer_of``, ``role``
            (``teacher``, ``baseline``, ``method``), ``seed``, ``value`` (percent or
            None), ``epochs`` and ``wall`` (seconds or None), all of this pair.
        pair: the pair (its label names the rows).
        ref: the benchmark's own precision: its runs are the method rows and targets,
            other precisions are labelled ``@<precision>``.

    Returns:
        ``(rows, verdicts)``: rows of method | pair | implementation | score | Δ vs
        baseline (95 % interval) | gap closed | epochs | wall time per run; one line per
        target.
    """
    def of(name):
        return [r for r in results if r['name'] == name]

    teacher = [r['value'] for r in results if r['role'] == 'teacher' and r['value'] is not None]
    teacher_val = teacher[0] if teacher else None

    def baseline_of(precision):
        return by_seed(of(variant(pair.baseline.name, step_precision(precision, ref), ref)))

    def effect(name) -> Tuple[Optional[Delta], Optional[float]]:
        """Δ of run ``name`` vs its baseline, and the share of the gap it closes."""
        base = baseline_of(of(name)[0].get('precision', 'fp32'))
        delta = paired_delta(by_seed(of(name)), base)
        if delta is None:
            return None, None
        base_mean = statistics.fmean(base[s] for s in delta.seeds)
        return delta, gap_closed(base_mean + delta.mean, base_mean, teacher_val)

    names = list(dict.fromkeys(r['name'] for r in results))
    rows, effects = [], {}
    for name in names:
        runs = of(name)
        first = runs[0]
        values = [r['value'] for r in runs if r['value'] is not None]
        walls = [r['wall'] for r in runs if r['wall'] is not None]
        wall = f'{sum(walls) / len(walls) / 60:.1f} min' if walls else MISSING
        is_method = first['role'] == 'method'
        precision = first.get('precision', 'fp32')
        delta, gap = effect(name) if is_method else (None, None)
        effects[name] = delta, gap
        impl = first['impl'] if first['impl'] == 'kd_mmdet' else f"{first['impl']} (peer)"
        label = first['method'] if is_method else first['role']
        if first.get('schedule', 'x1') != 'x1':
            label += f' ({first["schedule"]} schedule)'
        if precision != ref:
            label += f' @{precision}'
        score = (fmt_num(first['value']) + ' (1)' if first['role'] == 'teacher'
                 and first['value'] is not None else fmt_mean(values))
        if first.get('status'):
            score = first['status']
        rows.append([label, pair.label, impl if is_method else '—', score,
                     MISSING if delta is None else delta.text(),
                     MISSING if gap is None else f'{gap:.0f} %', str(first['epochs']), wall])

    verdicts = []
    ours = [n for n in names if of(n)[0]['role'] == 'method' and of(n)[0]['impl'] == 'kd_mmdet'
            and of(n)[0].get('precision', 'fp32') == ref]
    for name in ours:
        delta = effects[name][0]
        label = f'{pair.label} · {of(name)[0]["method"]}'
        if delta is None:
            verdicts.append(f'{label}: not measured')
            continue
        verdicts.append(f'{label}: Δ {delta.text()} over {delta.n} seeds — target ≥ +1.0 '
                        f'(mean ≥ 1.0, interval above 0) '
                        f'{"met" if delta.above(1.0) else "MISSED"}')
    gaps = [(effects[n][1], n) for n in ours if effects[n][1] is not None]
    if gaps:
        best, name = max(gaps)
        verdicts.append(f'{pair.label} · best gap closed: {best:.0f} % '
                        f'({of(name)[0]["method"]}) — target ≥ 50 % '
                        f'{"met" if best >= 50 else "MISSED"}')
    elif ours:
        verdicts.append(f'{pair.label} · gap closed: not measured (no teacher above the '
                        'baseline, or no finished run)')
    for name in names:
        peer_of = of(name)[0]['peer_of']
        if not peer_of or peer_of not in effects:
            continue
        label = f'{pair.label} · {of(name)[0]["method"]}: ours − {of(name)[0]["impl"]}'
        diff = paired_delta(by_seed(of(peer_of)), by_seed(of(name)))
        if diff is None:
            verdicts.append(f'{label}: not measured')
        else:
            # "ours >= the peer": the interval of the paired difference reaches 0 or above
            ok = diff.mean >= 0 or (diff.high is not None and diff.high >= 0)
            verdicts.append(f'{label}: {diff.text()} over {diff.n} seeds — target ours ≥ '
                            f'peer (interval reaches 0) {"met" if ok else "MISSED"}')
    return rows, verdicts


TABLE_HEADER = ['method', 'pair', 'implementation', '{score} mean ± std (seeds)',
                'Δ vs baseline [95 % interval]', 'gap closed', 'epochs', 'wall time / run']


# ---- commands -----------------------------------------------------------------------
def select_runs(methods: Optional[Sequence[str]], tasks: Sequence[str],
                quick: bool) -> List[Run]:
    """Method runs to do, in table order: ``--methods`` names, the quick set, or all
    (``DIAGNOSIS_RUNS`` only by name)."""
    known = runs_by_name()
    if methods:
        unknown = [m for m in methods if m not in known]
        if unknown:
            raise SystemExit(f'quality.py: unknown method(s) {", ".join(unknown)}; '
                             f'known: {", ".join(known)}')
        wanted = set(methods)
    elif quick:
        wanted = set(QUICK_METHODS)
    else:
        wanted = {r.name for r in DET_RUNS + CLS_RUNS}
    return [r for r in DET_RUNS + DIAGNOSIS_RUNS + CLS_RUNS
            if r.name in wanted and PAIRS[r.pair].task in tasks]


def config_options(config_path: str, settings: Settings, data_root: str, task: str,
                   teacher_ckpt: Optional[str], seed: int) -> List[str]:
    """``--cfg-options`` of one run: data, image size, seed, teacher and score options
    (:func:`kd_mmdet.datasets.digits_options.digits_run_options`, as the plan's toy twin)."""
    from kd_mmdet.datasets.digits_options import digits_run_options
    try:
        return digits_run_options(osp.join(REPO, config_path), data_root, task, teacher_ckpt,
                                  seed, settings.img_size, settings.keep_all_scores,
                                  settings.extra)
    except ValueError as e:
        raise ValueError(f'quality.py: {e}') from None


def test_split_options(data_root: str, task: str = 'det') -> List[str]:
    """``--cfg-options`` that point the test loop at the data's test split."""
    if task == 'cls':  # mmpretrain CustomDataset folders
        return ['test_dataloader.dataset.data_prefix=test']
    ann = osp.join(data_root, 'annotations', 'instances_test.json')
    return ['test_dataloader.dataset.ann_file=annotations/instances_test.json',
            f'test_evaluator.ann_file={ann}']


def read_curve(work_dir: str, key: str) -> List[Tuple[int, float]]:
    """``(epoch, value)`` of every validation of the newest run in ``work_dir``."""
    rows = read_scalars(work_dir)
    return [(int(r['step']), float(r[key])) for r in rows if key in r and 'step' in r]


def pretrained_override(model: dict, checkpoint: str) -> Tuple[List[str], dict]:
    """Where a run's trained backbone sits and the options that load ``checkpoint`` into it.

    The trained detector is ``model.architecture`` in a distillation config, else
    ``model`` itself (a plain detector, or mmdet's LD detector whose student is the
    detector). A distillation teacher is never touched: its weights come from
    ``teacher_ckpt``.

    Returns:
        ``(path, override)``: the key path of the backbone and the dict to merge there —
        mmdet's ImageNet recipe: ``init_cfg`` Pretrained with the classifier's
        ``backbone.`` prefix, ``frozen_stages=1``, ``norm_eval=True``.
    """
    path = ['architecture', 'backbone'] if 'architecture' in model else ['backbone']
    node = model
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ValueError(f'quality.py: no model.{".".join(path)} to load a pretrained '
                             'backbone into')
        node = node[key]
    if node.get('type', 'ResNet').split('.')[-1] != 'ResNet':
        raise ValueError(f'quality.py: model.{".".join(path)} is {node.get("type")}, '
                         'the pretrained checkpoints are mmdet ResNets')
    override = dict(frozen_stages=1, norm_eval=True,
                    init_cfg=dict(_delete_=True, type='Pretrained', prefix='backbone.',
                                  checkpoint=checkpoint))
    return path, override


def write_pretrained_config(config: str, checkpoint: str, out_path: str) -> str:
    """A config that is ``config`` with its trained backbone loaded from ``checkpoint``
    (see ``pretrained_override``); written to ``out_path``, which is returned."""
    from mmengine.config import Config
    src = osp.join(REPO, config)
    path, override = pretrained_override(Config.fromfile(src).model, checkpoint)
    nested: dict = override
    for key in reversed(path):
        nested = {key: nested}
    text = (f'# {config} with its backbone pretrained as a digit classifier\n'
            '# (written by benchmarks/quality.py).\n'
            f'_base_ = [{src!r}]\n'
            f'model = {nested!r}\n')
    os.makedirs(osp.dirname(out_path), exist_ok=True)
    with open(out_path, 'w') as f:
        f.write(text)
    return out_path


_WEIGHT_KEYS = ('loss_weight', 'vlr_weight', 'kd_weight', 'alpha_fgd', 'beta_fgd', 'gamma_fgd',
                'lambda_fgd', 'alpha_mgd')


def distill_weight_options(model: dict, factor: float,
                           keys: Optional[Sequence[str]] = None) -> List[str]:
    """``--cfg-options`` that multiply every distillation loss weight of a config by
    ``factor`` (a loss-weight sweep).

    The weights are the ``loss_weight``-like keys (``_WEIGHT_KEYS``: FGD's α, β, γ, λ and
    MGD's α are its weights; MGD's ``lambda_mgd`` is a mask ratio and is kept) of every
    loss in ``model.distiller.distill_losses`` and of CrossKD's top-level ``loss_*_kd``;
    ``keys`` restricts them to those keys (e.g. LD's ``kd_weight``: one term of a loss).
    Raises ValueError when the config has none (or none of ``keys``).
    """
    unknown = sorted(set(keys or ()) - set(_WEIGHT_KEYS))
    if unknown:
        raise ValueError(f'quality.py: unknown sweep keys {unknown}; the weight keys are '
                         f'{", ".join(_WEIGHT_KEYS)}')
    wanted = tuple(keys) if keys else _WEIGHT_KEYS
    losses = dict(model.get('distiller', {}).get('distill_losses', {}))
    prefix = {name: f'model.distiller.distill_losses.{name}' for name in losses}
    for key, value in model.items():
        if key.startswith('loss_') and key.endswith('_kd') and isinstance(value, dict):
            losses[key], prefix[key] = value, f'model.{key}'
    opts = [f'{prefix[name]}.{key}={loss[key] * factor!r}'
            for name, loss in losses.items() for key in wanted if key in loss]
    if not opts:
        raise ValueError('quality.py: no distillation loss weight found to sweep '
                         f'(looked for {", ".join(wanted)})')
    return opts


def final_checkpoint(work_dir: str, epochs: int) -> str:
    return osp.join(work_dir, f'epoch_{epochs}.pth')


def train_command(config: str, work_dir: str, epochs: int, options: List[str]) -> List[str]:
    """``tools/train.py`` for one run; it keeps a checkpoint of every epoch (the config's
    ``max_keep_ckpts`` still bounds how many), so an interrupted run can resume."""
    return ['python', 'tools/train.py', config, '--epochs', str(epochs),
            '--work-dir', work_dir, '--cfg-options', *options,
            'default_hooks.checkpoint.interval=1']


def estimate_seconds(run: Run, settings: Settings, teacher: bool, threads: int) -> float:
    """Rough wall time of one run from ``SEC_PER_ITER`` (see there)."""
    task = PAIRS[run.pair].task
    key = run.name if run.name in SEC_PER_ITER else run.pair
    epochs = settings.epochs_of(run, teacher)
    if task == 'det':
        iters = math.ceil(settings.num_train / 8) * epochs
        scale = (settings.img_size / REF_IMG_SIZE) ** PIXEL_EXPONENT
    else:
        iters = math.ceil(settings.cls_num_train / 64) * epochs
        scale = 1.0
    threads_factor = (2 / max(threads, 1)) ** THREAD_EXPONENT
    return SEC_PER_ITER[key] * iters * scale * threads_factor + SEC_PER_RUN


def test_seconds(settings: Settings, task: str = 'det') -> float:
    """Rough wall time of one run's test pass (a classification image costs far less
    than a detection image; counted as one as a bound)."""
    return SEC_PER_TEST + SEC_PER_TEST_IMAGE * settings.num_test_of(task)


# ---- the benchmark ------------------------------------------------------------------
class Jobs:
    """Runs tasks on up to ``n`` threads, each task waiting for the tasks it names.

    A task is a callable that starts subprocesses (training, testing) and returns its
    result. Tasks start in the order they were submitted; a task submitted with
    ``after=[futures]`` waits for those first. That never deadlocks: every future a task
    waits for was submitted before it, so it has started (or finished) by the time the
    waiting task does. With ``n == 1`` each task runs at once in the caller's thread, in
    the order of submission, as the benchmark did before it ran tasks side by side.
    """

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f'quality.py Jobs: n must be >= 1, got {n}')
        self.pool = ThreadPoolExecutor(n, thread_name_prefix='quality') if n > 1 else None

    def submit(self, fn: Callable[..., dict], *args, after: Sequence[Future] = ()) -> Future:
        def task():
            for dep in after:
                dep.result()  # re-raises the dependency's error in this task
            return fn(*args)

        if self.pool is not None:
            return self.pool.submit(task)
        future: Future = Future()
        try:
            future.set_result(task())
        except Exception as e:  # kept for the caller, as the pool does; Ctrl-C stops here
            future.set_exception(e)
        return future

    def shutdown(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=cancel)


def gather(futures: Sequence[Future], jobs: Jobs) -> List[dict]:
    """The futures' results in their order; on the first error the tasks not yet started
    are cancelled, the running ones finish (no half-written work dir), and it is raised."""
    try:
        return [f.result() for f in futures]
    except BaseException:
        jobs.shutdown(cancel=True)
        raise


class Bench:
    """Runs the plan and collects results; ``dry_run`` only prints the commands."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.root = args.work_root
        self.commands: List[str] = []
        self.estimate = {'det': 0.0, 'cls': 0.0}  # seconds of the runs not done yet
        self.lock = threading.Lock()  # over estimate, which runs side by side add to
        # Config.fromfile is not thread-safe: a config with a `mmdet::` base asks
        # pkg_resources whether mmdet is installed, and two threads asking at once failed
        # with "TypeError: Expected str, Requirement, or Distribution". Configs are read
        # and written in this process one at a time.
        self.config_lock = threading.Lock()

    def env(self) -> Dict[str, str]:
        threads = str(self.args.threads)
        return dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
                    PYTHONPATH=os.pathsep.join(
                        p for p in (REPO, os.environ.get('PYTHONPATH')) if p))

    def shell(self, cmd: List[str]) -> str:
        """The command as typed from the repository root (paths under it made relative)."""
        text = ' '.join(shlex.quote(c.replace(REPO + os.sep, '')) for c in cmd)
        return f'OMP_NUM_THREADS={self.args.threads} {text}'

    @property
    def planning(self) -> bool:
        """Only listing the commands (``--dry-run``) or reporting (``--report-only``)."""
        return bool(getattr(self.args, 'dry_run', False) or
                    getattr(self.args, 'report_only', False))

    def execute(self, cmd: List[str], log_path: Optional[str] = None) -> None:
        self.commands.append(self.shell(cmd))
        if self.planning:
            return
        print(f'[quality] {self.shell(cmd)}', flush=True)
        full = [sys.executable] + cmd[1:] if cmd[0] == 'python' else cmd
        if log_path:
            os.makedirs(osp.dirname(log_path), exist_ok=True)
        with open(log_path or os.devnull, 'w') as log:
            out = subprocess.run(full, cwd=REPO, env=self.env(), stdout=log,
                                 stderr=subprocess.STDOUT)
        if out.returncode != 0:
            tail = open(log_path).read()[-3000:] if log_path else ''
            raise RuntimeError(f'quality.py: command failed ({out.returncode}): '
                               f'{self.shell(cmd)}\n{tail}')

    def run_unless_done(self, cmd: List[str], done: bool, log_path: str) -> bool:
        """Run ``cmd`` unless ``done`` (then list it as done); False when it failed
        (its error printed), so one failed run does not stop the benchmark."""
        if done:
            self.commands.append(f'# done: {self.shell(cmd)}')
            return True
        try:
            self.execute(cmd, log_path)
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return False
        return True

    def check_settings(self) -> None:
        """A work root holds one setting: refuse to mix results of two."""
        path = osp.join(self.root, 'settings.json')
        mine = {k: v for k, v in asdict(self.settings).items()}
        if osp.isfile(path):
            with open(path) as f:
                theirs = json.load(f)
            # a setting added after the root was made had its default's behaviour there
            theirs = {**{k: v for k, v in asdict(Settings()).items() if k not in theirs},
                      **theirs}
            # which schedule multiples a root holds does not change any run in it (each
            # has its own work dir): another invocation may add some
            for other in (theirs, mine):
                other.pop('baseline_schedules', None)
            if theirs != mine:
                diff = {k: (theirs.get(k), v) for k, v in mine.items() if theirs.get(k) != v}
                raise SystemExit(f'quality.py: {self.root} holds runs of other settings '
                                 f'(theirs, yours: {diff}); pass another --work-root')
        elif not self.planning:
            os.makedirs(self.root, exist_ok=True)
            with open(path, 'w') as f:
                json.dump(mine, f, indent=1)

    def make_data(self, task: str) -> str:
        s = self.settings
        out = self.settings.data_dir(self.root, task)
        if task == 'crops':
            done = osp.join(out, 'val')
            cmd = ['python', 'tools/make_digits_crops.py', out, '--train',
                   str(s.crop_num_train), '--val', str(s.crop_num_val), '--img-size',
                   str(s.img_size), '--crop-size', str(s.crop_size)]
        elif task == 'det':
            last = 'test' if s.num_test else 'val'
            done = osp.join(out, 'annotations', f'instances_{last}.json')
            cmd = ['python', 'tools/make_digits.py', out, '--train', str(s.num_train),
                   '--val', str(s.num_val), '--test', str(s.num_test), '--size',
                   str(s.img_size)]
        else:
            done = osp.join(out, 'test' if s.cls_num_test else 'val')
            cmd = ['python', 'tools/make_digits_cls.py', out, '--train', str(s.cls_num_train),
                   '--val', str(s.cls_num_val), '--test', str(s.cls_num_test)]
        if not osp.exists(done):
            self.execute(cmd, osp.join(self.root, 'logs', f'make_data_{task}.log'))
        return out

    def train(self, run: Run, work_dir: str, teacher: bool, seed: int,
              teacher_ckpt: Optional[str], data_root: str,
              extra: Sequence[str] = (), backbone_ckpt: Optional[str] = None,
              schedule: int = 1, test: bool = True) -> dict:
        """Train one run unless its final checkpoint exists; its result dict.

        With ``backbone_ckpt`` the run trains ``<work-root>/configs/<name>.py``, its
        config with the trained backbone loaded from that checkpoint
        (``write_pretrained_config``). ``schedule`` multiplies a student's epochs. A
        detection run is then scored on the test split when ``test`` and the benchmark
        scores on test (``--split test``); otherwise its score is its last validation's
        (``split: "val"``).
        """
        task = PAIRS[run.pair].task
        epochs = self.settings.epochs_of(run, teacher, schedule)
        baseline = not teacher and run is PAIRS[run.pair].baseline
        result = dict(name=run.name, method=run.method, impl=run.impl, peer_of=run.peer_of,
                      role='teacher' if teacher else ('baseline' if baseline else 'method'),
                      seed=seed, epochs=epochs, schedule=f'x{schedule}', split='val',
                      work_dir=work_dir, config=run.config, value=None, wall=None,
                      status=None, command=None)
        if not osp.isfile(osp.join(REPO, run.config)):
            result['status'] = 'missing'
            print(f'[quality] {run.name}: missing ({run.config} does not exist)')
            return result
        with self.config_lock:
            options = config_options(run.config, self.settings, data_root, task,
                                     teacher_ckpt, seed) + list(extra)
        config = run.config
        if backbone_ckpt is not None:
            config = osp.join(self.root, 'configs', f'{run.name}.py')
            if not self.planning:
                with self.config_lock:
                    write_pretrained_config(run.config, backbone_ckpt, config)
        val_interval = (self.settings.teacher_val_interval if teacher else
                        self.settings.baseline_val_interval if baseline else 0)
        if val_interval > 0:
            options.append(f'train_cfg.val_interval={val_interval}')
        cmd = train_command(config, work_dir, epochs, options)
        result['command'] = self.shell(cmd)
        done = osp.isfile(final_checkpoint(work_dir, epochs))
        if not done:
            with self.lock:
                self.estimate[task] += estimate_seconds(run, self.settings, teacher,
                                                        self.args.threads)
                if self.settings.num_test_of(task) and self.args.dry_run:
                    self.estimate[task] += test_seconds(self.settings, task)  # its test
        if not done:
            cmd = resumable(cmd, work_dir, self.planning)
        if not self.run_unless_done(cmd, done, osp.join(work_dir, 'bench_train.log')):
            result['status'] = 'failed'
            return result
        result = self.collect(result, task)
        if osp.isdir(work_dir) and (teacher or baseline):
            result['curve'] = read_curve(work_dir, METRICS[task][0])
        if test and self.settings.num_test_of(task) and \
                getattr(self.args, 'split', 'test') == 'test' and result['status'] is None:
            result = self.test(result, config, options, data_root, task)
        return result

    def test(self, result: dict, config: str, options: List[str], data_root: str,
             task: str = 'det') -> dict:
        """Score a trained run on the test split unless done: ``value`` becomes the test
        score, ``val_value`` keeps the last validation's; the metrics are kept in
        ``<work_dir>/test_metrics.json``."""
        key, scale, _ = METRICS[task]
        work_dir = result['work_dir']
        out = osp.join(work_dir, 'test_metrics.json')
        cmd = ['python', 'tools/test.py', config, final_checkpoint(work_dir, result['epochs']),
               '--work-dir', osp.join(work_dir, 'test'), '--out-metrics', out,
               '--cfg-options', *options, *test_split_options(data_root, task)]
        result = dict(result, val_value=result['value'], value=None, split='test',
                      test_command=self.shell(cmd))
        done = osp.isfile(out)
        if not done:
            with self.lock:
                self.estimate[task] += test_seconds(self.settings, task)
        if not self.run_unless_done(cmd, done, osp.join(work_dir, 'bench_test.log')):
            result['status'] = 'test failed'
            return result
        if not osp.isfile(out):
            result['status'] = 'not tested'
            return result
        with open(out) as f:
            metrics = json.load(f)
        result['val_metrics'] = result.pop('metrics', None)
        result['metrics'] = ({k: metrics.get(f'coco/{k}') for k in DET_METRIC_KEYS}
                             if task == 'det' else {key: metrics.get(key)})
        if metrics.get(key) is not None:
            result['value'] = scale * metrics[key]
        else:
            result['status'] = f'no {key} in {out}'
        return result

    def pretrain(self, jobs: Optional[Jobs] = None) -> List[dict]:
        """Train each of ``BACKBONES`` as a digit classifier unless done (side by side on
        ``jobs``); the results of ``pretrain_backbone``."""
        jobs = jobs or Jobs(1)
        data_root = self.make_data('crops').rstrip('/') + '/'
        return gather([jobs.submit(self.pretrain_backbone, role, data_root)
                       for role in BACKBONES], jobs)

    def pretrain_run(self, role: str) -> Tuple[str, int, int]:
        """Work dir, epochs and seed of the ``role`` backbone's pretraining."""
        s = self.settings
        epochs, seed = ((s.teacher_pretrain_epochs, s.teacher_pretrain_seed) if role == 'teacher'
                        else (s.student_pretrain_epochs, s.student_pretrain_seed))
        return osp.join(self.root, 'pretrain', BACKBONES[role][0]), epochs, seed

    def pretrained_checkpoint(self, role: str) -> str:
        return final_checkpoint(*self.pretrain_run(role)[:2])

    def pretrain_backbone(self, role: str, data_root: str) -> dict:
        """Pretrain the ``role`` backbone of ``BACKBONES`` unless done; its result: role
        ``pretrain``, pair ``pretrain``, the final top-1 as value and the top-1 of every
        epoch as ``curve``."""
        s = self.settings
        name, config = BACKBONES[role]
        work_dir, epochs, seed = self.pretrain_run(role)
        options = [f'randomness.seed={seed}'] + [
            f'{loader}.dataset.data_root={data_root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
        options += precision_options(s.precision, False) + list(s.extra)
        cmd = train_command(config, work_dir, epochs, options)
        result = dict(name=name, method=f'pretrain ({role} backbone)', impl='kd_mmdet',
                      peer_of=None, role='pretrain', pair='pretrain', seed=seed,
                      epochs=epochs, work_dir=work_dir, config=config, value=None,
                      wall=None, status=None, command=self.shell(cmd),
                      precision=s.precision, backbone=role, split='val')
        if not osp.isfile(final_checkpoint(work_dir, epochs)):
            try:
                self.execute(resumable(cmd, work_dir, self.planning),
                             osp.join(work_dir, 'bench_train.log'))
            except RuntimeError as e:
                raise SystemExit(f'quality.py: pretraining the {role} backbone failed; '
                                 f'no detection run can start without it.\n{e}')
        else:
            self.commands.append(f'# done: {self.shell(cmd)}')
        result = self.collect(result, 'cls')
        result['curve'] = read_curve(work_dir, METRICS['cls'][0]) if osp.isdir(
            work_dir) else []
        return result

    def collect(self, result: dict, task: str) -> dict:
        key, scale, _ = METRICS[task]
        work_dir = result['work_dir']
        if not osp.isfile(final_checkpoint(work_dir, result['epochs'])):
            if result['status'] is None:
                result['status'] = 'not run'
            return result
        metric = read_metric(work_dir, key)
        if metric['value'] is not None:
            result['value'] = scale * metric['value']
        if task == 'det':
            result['metrics'] = {k: read_metric(work_dir, f'coco/{k}')['value']
                                 for k in DET_METRIC_KEYS}
        result['wall'] = load_repro_table().run_wall(work_dir)
        attempts = len(load_repro_table().run_dirs(work_dir))
        if attempts > 1:
            result['attempts'] = attempts
        if result['value'] is None:
            result['status'] = f'no {key} logged'
        if task == 'cls':
            with self.config_lock:
                warmup = warmup_iters(run_config(work_dir, osp.join(REPO, result['config'])))
            stalled = stalled_epochs(read_scalars(work_dir), warmup)
            if stalled:
                # a seed that sat at chance is a failed run, not a low score
                result.update(status=f'failed: training loss >= {STALL_FRACTION:g} ln 10 '
                              f'through epoch(s) {", ".join(map(str, stalled))} after '
                              'warm-up', stalled_value=result['value'], value=None)
        return result

    def run_all(self, runs: List[Run], seeds: Sequence[int]) -> List[dict]:
        """Every run of ``runs`` on ``seeds`` (and its pair's teacher, baseline, sweeps);
        the results in the plan's order, whatever order the runs finished in.

        The runs go to ``Jobs(--jobs)`` in the order that keeps the cores busy: the
        backbones' pretraining, then the baselines (they need only the student backbone),
        then the teachers, longest first, then the distilled runs, pairs whose teacher is
        ready soonest first, then the sweeps. Each waits for what it loads.
        """
        executing = not self.planning
        jobs = Jobs(getattr(self.args, 'jobs', 1) if executing else 1)
        try:
            return self._run_all(jobs, runs, seeds)
        finally:
            jobs.shutdown()

    def _run_all(self, jobs: Jobs, runs: List[Run], seeds: Sequence[int]) -> List[dict]:
        pairs: List[str] = []
        for run in runs:
            if run.pair not in pairs:
                pairs.append(run.pair)
        ref = self.settings.precision
        pretrained = self.settings.pretrained and any(PAIRS[p].task == 'det' for p in pairs)
        # (phase, rank, plan order) -> the task; the plan order is the results' order.
        tasks: List[Tuple[Tuple[int, float, int], str, Callable[[], dict], List[str]]] = []

        def plan(phase: int, rank: float, key: str, fn: Callable[[], dict],
                 after: Sequence[str] = ()) -> None:
            tasks.append(((phase, rank, len(tasks)), key, fn, list(after)))

        # --baselines-only: the students alone need neither a teacher nor its backbone
        teachers = not getattr(self.args, 'baselines_only', False)
        if pretrained:
            crops = self.make_data('crops').rstrip('/') + '/'
            for role in BACKBONES if teachers else ['student']:
                plan(0, 0, f'pretrain/{role}',
                     lambda role=role: self.pretrain_backbone(role, crops))
        for pair_key in pairs:
            pair = PAIRS[pair_key]
            if not osp.isfile(osp.join(REPO, pair.teacher.config)):
                print(f'[quality] {pair.label}: missing ({pair.teacher.config})')
                continue
            maker = 'tools/make_digits.py' if pair.task == 'det' else 'tools/make_digits_cls.py'
            if not osp.isfile(osp.join(REPO, maker)):
                print(f'[quality] {pair.label}: missing ({maker})')
                continue
            data_root = self.make_data(pair.task)
            det = pretrained and pair.task == 'det'
            t_backbone = self.pretrained_checkpoint('teacher') if det else None
            s_backbone = self.pretrained_checkpoint('student') if det else None
            t_after = ['pretrain/teacher'] if det else []
            s_after = ['pretrain/student'] if det else []
            t_work = osp.join(self.root, 'teachers', pair.teacher.name)
            t_epochs = self.settings.epochs_of(pair.teacher, True)
            t_ckpt = final_checkpoint(t_work, t_epochs)
            t_cost = estimate_seconds(pair.teacher, self.settings, True, self.args.threads)

            def teacher(pair=pair, pair_key=pair_key, t_work=t_work, data_root=data_root,
                        t_backbone=t_backbone) -> dict:
                res = self.train(pair.teacher, t_work, True, seeds[0], None, data_root,
                                 precision_options(ref, False), t_backbone)
                return dict(res, pair=pair_key, precision=ref)

            t_key = f'teacher/{pair_key}'
            if teachers:
                plan(2, -t_cost, t_key, teacher, t_after)
            for seed in seeds:
                for precision in self.args.precisions:
                    for run in [pair.baseline] + [r for r in runs if r.pair == pair_key
                                                  and r is not pair.baseline]:
                        if run is pair.baseline and \
                                step_precision(precision, ref) != precision:
                            continue  # the same run as the baseline of another precision
                        name = variant(run.name, precision, ref)
                        needs_teacher = run is not pair.baseline

                        # mmrazor peers swap only the loss and run on kd_mmdet's
                        # algorithm; mmdet's LD detector knows no teacher_precision: it
                        # gets the step's options only.
                        def student(run=run, name=name, seed=seed, precision=precision,
                                    needs_teacher=needs_teacher, pair_key=pair_key,
                                    t_ckpt=t_ckpt, data_root=data_root,
                                    s_backbone=s_backbone) -> dict:
                            res = self.train(run, osp.join(self.root, str(seed), name),
                                             False, seed, t_ckpt if needs_teacher else None,
                                             data_root,
                                             precision_options(precision, needs_teacher and
                                                               run.impl != 'mmdet'),
                                             s_backbone)
                            return dict(res, pair=pair_key, name=name, precision=precision)

                        if needs_teacher:
                            plan(3, t_cost, f'{seed}/{name}', student, s_after + [t_key])
                        else:
                            plan(1, 0, f'{seed}/{name}', student, s_after)
                for schedule in self.settings.baseline_schedules:
                    if schedule == 1:
                        continue
                    name = schedule_name(pair.baseline.name, schedule)

                    def longer(pair=pair, name=name, seed=seed, schedule=schedule,
                               pair_key=pair_key, data_root=data_root,
                               s_backbone=s_backbone) -> dict:
                        res = self.train(pair.baseline, osp.join(self.root, str(seed), name),
                                         False, seed, None, data_root,
                                         precision_options(ref, False), s_backbone, schedule)
                        return dict(res, pair=pair_key, name=name, precision=ref)

                    plan(1, 0, f'{seed}/{name}', longer, s_after)
            sweep_seeds = getattr(self.args, 'sweep_seeds', None) or seeds[:1]
            for run in [r for r in runs if r.pair == pair_key and r.impl == 'kd_mmdet'
                        and r is not pair.baseline]:
                for seed in sweep_seeds:
                    for factor in self.args.sweep or ():
                        plan(4, t_cost, f'sweep/{seed}/{run.name}/{factor}',
                             lambda run=run, factor=factor, seed=seed, t_ckpt=t_ckpt,
                             data_root=data_root, s_backbone=s_backbone: self.sweep_run(
                                 run, factor, seed, t_ckpt, data_root, s_backbone),
                             s_after + [t_key])
        futures: Dict[str, Future] = {}
        for _, key, fn, after in sorted(tasks, key=lambda t: t[0]):
            futures[key] = jobs.submit(self.logged(fn), after=[futures[k] for k in after])
        return gather([futures[key] for _, key, _, _ in tasks], jobs)

    def logged(self, fn: Callable[[], dict]) -> Callable[[], dict]:
        """``fn`` that also appends its result to ``<work-root>/runs.jsonl`` as soon as it
        returns: an interrupted benchmark keeps the record of every run that finished
        (scored, or failed at chance), once per work dir."""
        def task() -> dict:
            result = fn()
            status = result.get('status') or ''
            if self.planning or not (status == '' or status.startswith('failed:')):
                return result
            with self.lock:
                path = osp.join(self.root, 'runs.jsonl')
                seen = set()
                if osp.isfile(path):
                    with open(path) as f:
                        seen = {json.loads(line)['work_dir'] for line in f if line.strip()}
                if result['work_dir'] not in seen:
                    os.makedirs(self.root, exist_ok=True)
                    with open(path, 'a') as f:
                        f.write(json.dumps(dict(result, finished=time.strftime(
                            '%Y-%m-%dT%H:%M:%S'))) + '\n')
            return result
        return task

    def sweep_run(self, run: Run, factor: float, seed: int, teacher_ckpt: str,
                  data_root: str, backbone_ckpt: Optional[str]) -> dict:
        """``run`` with every distillation loss weight (or the ``--sweep-keys``) times
        ``factor`` (one seed, the benchmark's precision); work dir
        ``<work-root>/sweep/<seed>/<name>[_<keys>]_x<factor>``.
        """
        from mmengine.config import Config
        with self.config_lock:
            model = Config.fromfile(osp.join(REPO, run.config)).model
        keys = list(getattr(self.args, 'sweep_keys', None) or ())
        name = f'{run.name}{"".join("_" + k for k in keys)}_x{factor:g}'
        options = precision_options(self.settings.precision, True) + \
            distill_weight_options(model, factor, keys)
        # A sweep is a choice: scored on val, never on the test split.
        res = self.train(run, osp.join(self.root, 'sweep', str(seed), name), False, seed,
                         teacher_ckpt, data_root, options, backbone_ckpt, test=False)
        return dict(res, pair=run.pair, name=name, role='sweep', factor=factor,
                    base_name=run.name, swept='+'.join(keys) or 'all',
                    precision=self.settings.precision)


def precision_rows(results: List[dict], ref: str = 'fp32') -> Tuple[List[List[str]], List[str]]:
    """Rows of run | precision | score | ``ref`` score | Δ paired by seed with its 95 %
    interval | seeds, and one verdict per run and precision: equal when the interval
    contains 0. Only seeds finished in both precisions are compared (``paired_delta``).
    ``ref`` is the benchmark's own precision."""
    by_key: Dict[Tuple[str, str], Dict[int, float]] = {}
    for r in results:
        if r['role'] in ('baseline', 'method') and r['value'] is not None:
            key = (r['name'].split('@')[0], r.get('precision', 'fp32'))
            by_key.setdefault(key, {})[r['seed']] = r['value']
    rows, verdicts = [], []
    names = list(dict.fromkeys(name for name, _ in by_key))
    for name in names:
        for p in [p for p in PRECISIONS if p != ref]:
            low, high = by_key.get((name, p), {}), by_key.get((name, ref), {})
            delta = paired_delta(low, high)
            if delta is None:
                continue
            rows.append([name, p, fmt_mean([low[s] for s in delta.seeds]),
                         fmt_mean([high[s] for s in delta.seeds]), delta.text('{:+.2f}'),
                         str(delta.n)])
            if delta.low is not None:
                equal = delta.low <= 0 <= delta.high
                verdicts.append(f'{name} @{p}: {delta.text("{:+.2f}")} vs {ref} over '
                                f'{delta.n} seeds — equal (interval contains 0) '
                                f'{"met" if equal else "MISSED"}')
    return rows, verdicts


PRECISION_HEADER = ['run', 'precision', 'score', '{ref} score',
                    'Δ vs {ref} paired by seed [95 % interval]', 'seeds']


def repro_tables(results: List[dict], seeds: Sequence[int]) -> List[str]:
    """tools/repro_table.py's table per detection pair and seed (finished runs only)."""
    repro = load_repro_table()
    out = []
    for pair_key, pair in PAIRS.items():
        if pair.task != 'det':
            continue
        for seed in seeds:
            dirs = [r['work_dir'] for r in results if r['pair'] == pair_key
                    and r['seed'] == seed and r['role'] in ('baseline', 'method')
                    and r['value'] is not None]
            base = [r['work_dir'] for r in results if r['pair'] == pair_key
                    and r['seed'] == seed and r['role'] == 'baseline' and r['value'] is not None]
            if not dirs:
                continue
            table = repro.build_table(dirs, base[0] if base else None)
            out.append(f'{pair.label}, seed {seed}:\n\n{repro.to_markdown(table)}')
    return out


def sweep_rows(results: List[dict], ref: str) -> Tuple[List[List[str]], List[float]]:
    """One row per swept method, swept weights and seed: its score at each weight factor
    (×1 is the method's own run on that seed) and the baseline of that seed; the method
    is labelled with the swept keys when not all its weights were."""
    sweeps = [r for r in results if r['role'] == 'sweep']
    factors = sorted({r['factor'] for r in sweeps} | {1.0})
    rows = []
    groups = dict.fromkeys((r['base_name'], r.get('swept', 'all'), r['seed']) for r in sweeps)
    for base_name, swept, seed in groups:
        mine = [r for r in sweeps if r['base_name'] == base_name and r['seed'] == seed
                and r.get('swept', 'all') == swept]
        if all(r['value'] is None for r in mine):
            continue  # not swept (a report of a run with another --methods)
        pair = mine[0]['pair']
        scores = {r['factor']: r['value'] for r in mine}
        own = [r for r in results if r['name'] == base_name and r['seed'] == seed
               and r['role'] == 'method' and r.get('precision', ref) == ref]
        scores[1.0] = own[0]['value'] if own else None
        base = [r['value'] for r in results if r['role'] == 'baseline' and r['pair'] == pair
                and r['seed'] == seed and r.get('precision', ref) == ref]
        label = base_name if swept == 'all' else f'{base_name} ({swept})'
        rows.append([label, str(seed), fmt_num(base[0] if base else None)] +
                    [fmt_num(scores.get(f)) for f in factors])
    return rows, factors


def curve_sections(results: List[dict]) -> List[str]:
    """Markdown of the pretraining (top-1 per epoch) and teacher (box mAP per validation)
    curves, from the ``curve`` of the results that have one; a teacher scored on a test
    split has its test score beside its last validation."""
    parts = []
    for role, title, scale in (('pretrain', 'Backbone pretraining (digit crops, top-1 %)', 1.0),
                               ('teacher', 'Teachers (box mAP per validation)', 100.0),
                               ('baseline', 'Baselines (box mAP or top-1 per validation, '
                                'on val)', None)):
        rows = []
        for r in results:
            if r['role'] != role or not r.get('curve'):
                continue
            factor = scale if scale is not None else METRICS[PAIRS[r['pair']].task][1]
            points = ', '.join(f'{epoch}: {value * factor:.1f}' for epoch, value in r['curve'])
            final = r['val_value'] if 'val_value' in r else (
                r['value'] if r['value'] is not None else r.get('stalled_value'))
            tested = 'val_value' in r
            name = r['name'] if role != 'baseline' else f'{r["name"]}, seed {r["seed"]}'
            rows.append([name, str(r['epochs']), fmt_num(final)] +
                        ([fmt_num(r['value'])] if tested else []) + [points])
        if rows:
            header = ['run', 'epochs', 'final'] + (
                ['test'] if any(len(row) == 5 for row in rows) else []) + ['epoch: value']
            rows = [row if len(row) == len(header) else row[:3] + [MISSING] + row[3:]
                    for row in rows]
            parts += ['', f'## {title}', '', to_markdown(header, rows)]
    return parts


def report(results: List[dict], settings: Settings, args: argparse.Namespace,
           commands: List[str], elapsed: Optional[float]) -> str:
    """The Markdown report: one table per task, targets, reproduction tables, commands."""
    parts = [f'# Quality benchmark ({time.strftime("%Y-%m-%d")})', '',
             f'Command: `{" ".join(shlex.quote(a) for a in args.argv)}`', '',
             f'Settings: {json.dumps(asdict(settings))}; seeds {list(args.seeds)}; '
             f'{getattr(args, "jobs", 1)} runs at a time at {args.threads} threads each.']
    if elapsed is not None:
        parts.append(f'Wall time of this invocation: {elapsed / 60:.1f} min.')
    ref = settings.precision
    parts += curve_sections(results)
    verdicts_all = []
    for task in ('det', 'cls'):
        rows, verdicts = [], []
        for pair_key, pair in PAIRS.items():
            mine = [r for r in results if r['pair'] == pair_key and r['role'] != 'sweep']
            if pair.task != task or not mine:
                continue
            r, v = summarize(mine, pair, ref)
            rows += r
            verdicts += v
        if not rows:
            continue
        score = METRICS[task][2]
        header = [h.format(score=score) for h in TABLE_HEADER]
        title = 'Classification (digits, top-1 %)'
        if task == 'det':
            title = (f'Detection (digits, box mAP on the {settings.num_test}-image test '
                     'split)') if settings.num_test else 'Detection (digits, box mAP on val)'
        parts += ['', f'## {title}', '', to_markdown(header, rows)]
        verdicts_all += verdicts
    p_rows, p_verdicts = precision_rows(results, ref)
    if p_rows:
        parts += ['', f'## Precision (same teacher and seeds as {ref})', '',
                  to_markdown([h.format(ref=ref) for h in PRECISION_HEADER], p_rows)]
        verdicts_all += p_verdicts
    if verdicts_all:
        parts += ['', '## Targets', ''] + [f'- {v}' for v in verdicts_all]
    if any(r['role'] == 'sweep' for r in results):
        s_rows, factors = sweep_rows(results, ref)
        parts += ['', '## Loss-weight sweeps (distillation weights × factor: all of them, or '
                  'the keys in brackets)', '',
                  to_markdown(['method', 'seed', 'baseline'] + [f'×{f:g}' for f in factors],
                              s_rows)]
    tables = repro_tables(results, args.seeds)
    if tables:
        parts += ['', '## Reproduction tables (tools/repro_table.py)', '']
        parts += ['\n\n'.join(tables)]
    parts += ['', '## Commands', '', '```bash'] + commands + ['```']
    return '\n'.join(parts) + '\n'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    D = Settings()  # the defaults the help states
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 48/16 detection images of 96 px, 256/128 '
                        'classification images, 1 epoch, seed 0, methods '
                        f'{", ".join(QUICK_METHODS)}; work root work_dirs/bench_quick')
    parser.add_argument('--seeds', type=int, nargs='+', help='seeds (default 0 1 2)')
    parser.add_argument('--methods', nargs='+', help='method runs by name (default: all); '
                        'see --list')
    parser.add_argument('--tasks', nargs='+', choices=['det', 'cls'], default=['det', 'cls'])
    parser.add_argument('--epochs', type=int, help=f'student epochs, GFL pair (default {D.epochs})')
    parser.add_argument('--teacher-epochs', type=int,
                        help=f'teacher epochs, GFL pair (default {D.teacher_epochs})')
    parser.add_argument('--frcnn-epochs', type=int,
                        help=f'student epochs, Faster R-CNN pair (default {D.frcnn_epochs})')
    parser.add_argument('--frcnn-teacher-epochs', type=int, help='teacher epochs, Faster '
                        f'R-CNN pair (default {D.frcnn_teacher_epochs})')
    parser.add_argument('--num-train', type=int, help=f'detection training images ({D.num_train})')
    parser.add_argument('--num-val', type=int, help=f'detection validation images ({D.num_val})')
    parser.add_argument('--num-test', type=int,
                        help=f'detection test images, the scores ({D.num_test}; 0: val)')
    parser.add_argument('--img-size', type=int, help=f'detection image side in px ({D.img_size})')
    parser.add_argument('--cls-epochs', type=int,
                        help=f'classification student epochs ({D.cls_epochs})')
    parser.add_argument('--cls-teacher-epochs', type=int,
                        help=f'classification teacher epochs ({D.cls_teacher_epochs})')
    parser.add_argument('--cls-num-train', type=int,
                        help=f'classification train images ({D.cls_num_train})')
    parser.add_argument('--cls-num-val', type=int,
                        help=f'classification val images ({D.cls_num_val})')
    parser.add_argument('--cls-num-test', type=int,
                        help=f'classification test images, the scores ({D.cls_num_test}; '
                        '0: val)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra key=value options for every run')
    parser.add_argument('--precision', choices=list(PRECISIONS) + ['auto'], default='auto',
                        help='the precision of every run (teachers, pretraining, students): '
                        'fp32, bf16t (bf16 channels_last teacher), amp (bf16t plus bf16 '
                        'autocast of the whole step); auto (default): amp where bf16 is '
                        'native (a CUDA device, or a CPU with avx512_bf16 / amx_bf16), fp32 '
                        'elsewhere (emulated bf16 is several times slower than fp32)')
    parser.add_argument('--precisions', nargs='+', choices=list(PRECISIONS),
                        help='train every student run once in each, on the same teachers '
                        '(default: --precision only); runs in other precisions than '
                        '--precision are named <run>@<precision> and compared with it')
    parser.add_argument('--sweep', type=float, nargs='+',
                        help='also train each selected kd_mmdet method with all its '
                        'distillation loss weights times each factor, on the first seed '
                        '(e.g. --sweep 0.1 0.3 3 10: two orders of magnitude)')
    parser.add_argument('--sweep-keys', nargs='+', choices=_WEIGHT_KEYS,
                        help='scale only these weight keys (e.g. kd_weight: LD\'s class KD)')
    parser.add_argument('--sweep-seeds', type=int, nargs='+',
                        help='sweep on these seeds (default: the first of --seeds)')
    parser.add_argument('--pretrain-only', action='store_true',
                        help='only the pretraining stage: train (or read) both detection '
                        'backbones as digit classifiers and print their curves')
    parser.add_argument('--no-pretrained', dest='pretrained', action='store_false',
                        default=None, help='detection backbones from scratch (no '
                        'pretraining stage, frozen_stages -1, BN trained)')
    parser.add_argument('--crop-num-train', type=int,
                        help=f'pretraining crops, train ({D.crop_num_train})')
    parser.add_argument('--crop-num-val', type=int,
                        help=f'pretraining crops, val ({D.crop_num_val})')
    parser.add_argument('--teacher-pretrain-epochs', type=int, help='pretraining epochs '
                        f'of the teacher backbone ({D.teacher_pretrain_epochs})')
    parser.add_argument('--student-pretrain-epochs', type=int, help='pretraining epochs '
                        f'of the student backbone ({D.student_pretrain_epochs})')
    parser.add_argument('--teacher-pretrain-seed', type=int, help='randomness.seed of the '
                        f'teacher backbone\'s pretraining ({D.teacher_pretrain_seed})')
    parser.add_argument('--student-pretrain-seed', type=int, help='randomness.seed of the '
                        f'student backbone\'s pretraining ({D.student_pretrain_seed}); another '
                        'value replicates the benchmark over the pretraining')
    parser.add_argument('--teacher-val-interval', type=int,
                        help='validate detection teachers every N epochs (their curve; default '
                        f'{D.teacher_val_interval}, 0: only at the end)')
    parser.add_argument('--threads', type=int, default=1, help='OMP_NUM_THREADS of each run')
    parser.add_argument('--jobs', type=int,
                        help='runs at a time (default: the cores // --threads, at most 4)')
    parser.add_argument('--work-root', help='default work_dirs/bench (work_dirs/bench_quick '
                        'with --quick)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands and a time estimate, train nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing; the report from the runs that finished')
    parser.add_argument('--list', action='store_true', help='list the method runs and exit')
    parser.add_argument('--split', choices=['val', 'test'], default='test',
                        help='what detection runs are scored on: test (default; every '
                        'final run once, after training) or val (for choices: schedules, '
                        'weights, levels; no test pass)')
    parser.add_argument('--baselines-only', action='store_true',
                        help='train only the baselines (and the student backbone they '
                        'load), no teacher: with --baseline-schedules, the curves a '
                        'schedule is chosen from')
    parser.add_argument('--baseline-schedules', type=int, nargs='+',
                        help='multiples of the student schedule every baseline trains at '
                        f'(default {" ".join(map(str, D.baseline_schedules))}; x1 is the '
                        'standard one, x2 the plateau check)')
    parser.add_argument('--baseline-val-interval', type=int,
                        help=f'validate baselines every N epochs ({D.baseline_val_interval}; '
                        '0: only at the end)')
    args = parser.parse_args(argv)
    args.argv = ['python', 'benchmarks/quality.py'] + list(sys.argv[1:] if argv is None
                                                          else argv)
    return args


def default_jobs(threads: int) -> int:
    """Runs at a time: as many as the usable cores hold at ``threads`` each, 1 to 4 (each
    run holds about 1.2 GiB)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else \
        (os.cpu_count() or 1)
    return max(1, min(4, cores // max(threads, 1)))


def auto_precision() -> str:
    """``amp`` where bf16 is native (CUDA, or a CPU with bf16 instructions), else ``fp32``:
    without avx512_bf16 a bf16 pretraining step here ran many times slower than fp32."""
    import torch
    from kd_mmdet.models.utils.precision import cpu_has_bf16
    return 'amp' if torch.cuda.is_available() or cpu_has_bf16() else 'fp32'


def make_settings(args: argparse.Namespace) -> Settings:
    quick = dict(num_train=48, num_val=16, num_test=16, img_size=96, epochs=1, teacher_epochs=1,
                 frcnn_epochs=1, frcnn_teacher_epochs=1, cls_num_train=256,
                 cls_num_val=128, cls_num_test=64, cls_epochs=1, cls_teacher_epochs=1,
                 crop_num_train=256, crop_num_val=64, teacher_pretrain_epochs=1,
                 student_pretrain_epochs=1, keep_all_scores=True,
                 baseline_schedules=[1]) if args.quick else {}
    settings = Settings(**quick)
    # every setting with a flag of its name (keep_all_scores and extra have none)
    for f in fields(Settings):
        if getattr(args, f.name, None) is not None:
            setattr(settings, f.name, getattr(args, f.name))
    if settings.precision == 'auto':
        settings.precision = auto_precision()
    settings.extra = list(args.cfg_options)
    return settings


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.list:
        rows = [[r.name, r.method, PAIRS[r.pair].label, r.impl, r.peer_of or '', r.config,
                 'yes' if osp.isfile(osp.join(REPO, r.config)) else 'missing']
                for r in DET_RUNS + DIAGNOSIS_RUNS + CLS_RUNS]
        print(to_markdown(['name', 'method', 'pair', 'implementation', 'peer of', 'config',
                           'config exists'], rows))
        return 0
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    if args.threads < 1 or (args.jobs is not None and args.jobs < 1):
        raise SystemExit(f'quality.py: --threads ({args.threads}) and --jobs ({args.jobs}) '
                         f'must be >= 1')
    args.jobs = args.jobs or default_jobs(args.threads)
    if args.sweep_seeds and not set(args.sweep_seeds) <= set(args.seeds):
        raise SystemExit(f'quality.py: --sweep-seeds {args.sweep_seeds} must be among --seeds '
                         f'{args.seeds} (a sweep compares with its seed\'s own runs)')
    args.work_root = osp.abspath(args.work_root) if args.work_root else osp.join(
        REPO, 'work_dirs', 'bench_quick' if args.quick else 'bench')
    settings = make_settings(args)
    args.precisions = args.precisions or [settings.precision]
    if args.baseline_schedules and 1 not in args.baseline_schedules:
        raise SystemExit('quality.py: --baseline-schedules must include 1 (the standard '
                         f'schedule), got {args.baseline_schedules}')
    runs = select_runs(args.methods, args.tasks, args.quick)
    if args.baselines_only:  # the pairs of the selected runs, without their methods
        runs = list({r.pair: PAIRS[r.pair].baseline for r in runs}.values())
    bench = Bench(args, settings)
    bench.check_settings()
    start = time.time()
    if args.pretrain_only:
        if not settings.pretrained:
            raise SystemExit('quality.py: --pretrain-only with --no-pretrained')
        jobs = Jobs(args.jobs if not args.dry_run else 1)
        try:
            results = bench.pretrain(jobs)
        finally:
            jobs.shutdown()
        print('\n'.join(curve_sections(results)))
        return 0
    results = bench.run_all(runs, args.seeds)
    elapsed = None if (args.dry_run or args.report_only) else time.time() - start
    if args.dry_run:
        print('\n'.join(bench.commands))
        est = bench.estimate
        print(f'\n{len(bench.commands)} commands; estimated time of the runs not done yet, '
              f'{args.jobs} at a time at {args.threads} threads each (from SEC_PER_ITER): '
              f'detection {est["det"] / 60 / args.jobs:.0f} min, classification '
              f'{est["cls"] / 60 / args.jobs:.0f} min.')
        return 0
    text = report(results, settings, args, bench.commands, elapsed)
    print(text)
    os.makedirs(args.work_root, exist_ok=True)
    with open(osp.join(args.work_root, 'report.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.work_root, 'results.json'), 'w') as f:
        json.dump(dict(settings=asdict(settings), seeds=args.seeds, results=results,
                       elapsed=elapsed), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
