"""The detection reproduction plan (configs/plan/detection_plan.yaml): its runs, their
state and the filled plan table.

    python tools/plan.py --print [--launcher dist|slurm|mim] [--gpus 8] [--gpus-per-node 8]
                         [--auto-scale-lr | --keep-lr]        # training commands
    python tools/plan.py --status                     # which rows have finished runs
    python tools/plan.py --table [--csv table.csv]    # the filled table (markdown, CSV)
    python tools/plan.py --toy [--epochs 3 --teacher-epochs 6]   # the toy twin, end to end
    python tools/plan.py --preflight [--rows CWD DKD] [--synthetic] [--scale 320]
                         [--iters 2] [--precision fp32|bf16t|amp] [--json F]
                         # real training steps of each COCO run (tools/preflight.py)

COCO runs go to ``work_dirs/plan/<config name>``; their teachers are model-zoo
checkpoints. The recipe every COCO run follows is 8 GPUs x 2 images, batch 16 (the
config's ``auto_scale_lr.base_batch_size``, else 16). ``--print`` with a ``--gpus`` that
gives another total batch refuses, unless told what to do with the learning rate:
``--auto-scale-lr`` appends ``--auto-scale-lr`` to every command (tools/train.py then
scales the lr linearly, mmengine's ``auto_scale_lr``), ``--keep-lr`` keeps the batch-16
lr and prints a warning. With ``--launcher dist`` and more GPUs than a node has
(``--gpus-per-node``), each command is the multi-node form of tools/dist_train.sh
(``NNODES NODE_RANK MASTER_ADDR PORT``), to be run on every node with its own rank; a
``--gpus`` that is not a whole number of nodes is refused (``--launcher slurm`` spreads
any number of tasks over the nodes).

``--toy`` switches every action to the plan's twin on the digits set (work
dirs under ``work_dirs/plan_toy/``): on its own it generates the data
(tools/make_digits.py), trains the two toy teachers and the two students alone, then the
six methods against those teachers, one ``tools/train.py`` process per run, and prints
the table. A run that already finished with the requested epochs is not repeated.

The table keeps the plan's columns (method | teacher | teacher mAP | student | student
mAP | epochs | time) and appends the delta vs the row's baseline student; the baselines
follow as rows of their own. The teacher's mAP is the one the distillation run's
validation loop logs for its teacher; time is the run's measured wall time. Values are
read by tools/repro_table.py.
"""
import argparse
import functools
import importlib.util
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLAN = osp.join(REPO, 'configs', 'plan', 'detection_plan.yaml')
PLAN_COLUMNS = ['method', 'teacher', 'teacher mAP', 'student', 'student mAP', 'epochs',
                'time']
DELTA = 'Δ vs baseline'
LAUNCHERS = ('dist', 'slurm', 'mim')
# The plan's COCO recipe: 8 GPUs x 2 images; its base batch when a config names none.
RECIPE_GPUS = 8
RECIPE_BATCH = 16


def load_tool_module(filename: str):
    """``tools/<filename>`` as a module (tools/ is not a package), loaded once."""
    name = 'kd_mmdet_' + osp.splitext(filename)[0]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', filename))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def load_repro_table():
    """tools/repro_table.py as a module."""
    return load_tool_module('repro_table.py')


# ---- the plan ------------------------------------------------------------------------
@dataclass
class Run:
    """One training run of the plan: a teacher (toy only), a baseline or a method row."""
    role: str  # 'teacher', 'baseline' or 'row'
    method: str  # the plan's method name; 'teacher' / 'baseline' for the others
    teacher: Optional[str]  # plan name of the teacher (None for teachers and baselines)
    student: str  # plan name of the trained model
    config: str  # repository-relative config path
    estimate: Optional[str] = None  # the plan's own time estimate

    @property
    def name(self) -> str:
        """Work dir name: the config's file name."""
        return osp.splitext(osp.basename(self.config))[0]


def load_plan(path: str = PLAN) -> dict:
    """The plan file, checked: its columns, and every row names a known teacher and
    student and existing configs."""
    with open(path) as f:
        plan = yaml.safe_load(f)
    where = f'plan {osp.relpath(path, REPO)}'
    if plan.get('columns') != PLAN_COLUMNS:
        raise ValueError(f'{where}: columns must be {PLAN_COLUMNS}, got {plan.get("columns")}')
    for i, row in enumerate(plan.get('rows') or []):
        for key, known in (('teacher', plan['teachers']), ('student', plan['students'])):
            if row.get(key) not in known:
                raise ValueError(f'{where}: row {i + 1} ({row.get("method")}) names {key} '
                                 f'{row.get(key)!r}, not one of {sorted(known)}')
    for section in ('teachers', 'students', 'rows'):
        entries = plan[section].values() if section != 'rows' else plan[section]
        for entry in entries:
            for key in ('config', 'toy'):
                if key in entry and not osp.isfile(osp.join(REPO, entry[key])):
                    raise ValueError(f'{where}: {section} entry {entry} names {key} '
                                     f'{entry[key]!r}, which does not exist')
    return plan


def plan_runs(plan: dict, toy: bool) -> List[Run]:
    """Runs in training order: (toy) teachers, the baselines, then the plan's rows."""
    key = 'toy' if toy else 'config'
    runs = []
    if toy:
        runs += [Run('teacher', 'teacher', None, name, t['toy'])
                 for name, t in plan['teachers'].items()]
    runs += [Run('baseline', 'baseline', None, name, s[key])
             for name, s in plan['students'].items()]
    runs += [Run('row', r['method'], r['teacher'], r['student'], r[key], r.get('estimate'))
             for r in plan['rows']]
    return runs


def display_name(plan: dict, name: str, toy: bool) -> str:
    """The plan's name of a model, or the name of its toy stand-in."""
    entry = plan['teachers'].get(name) or plan['students'][name]
    return entry['toy_name'] if toy else name


# ---- commands ------------------------------------------------------------------------
def num_nodes(launcher: str, gpus: int, gpus_per_node: int = 8) -> int:
    """Nodes a run on ``gpus`` GPUs takes with ``launcher``, each a full one.

    tools/dist_train.sh (torchrun) starts the same number of processes on every node,
    so ``gpus`` must be a whole number of nodes; mim's pytorch launcher runs on one node
    only. Slurm places the tasks itself and is not checked.

    Raises:
        ValueError: the launcher cannot spread ``gpus`` over nodes of ``gpus_per_node``.
    """
    if gpus < 1:
        raise ValueError(f'tools/plan.py: --gpus must be >= 1, got {gpus}')
    if gpus_per_node < 1:
        raise ValueError(f'tools/plan.py: --gpus-per-node must be >= 1, got {gpus_per_node}')
    nodes = -(-gpus // gpus_per_node)
    if launcher == 'dist' and gpus % gpus_per_node and nodes > 1:
        raise ValueError(
            f'tools/plan.py: --gpus {gpus} is not a multiple of --gpus-per-node '
            f'{gpus_per_node}: tools/dist_train.sh starts as many processes on every node; '
            f'use --launcher slurm, which spreads {gpus} tasks over nodes of {gpus_per_node}')
    if launcher == 'mim' and nodes > 1:
        raise ValueError(
            f'tools/plan.py: --gpus {gpus} needs {nodes} nodes of {gpus_per_node} GPUs and '
            "mim train's pytorch launcher runs on one node; use --launcher dist or slurm")
    return nodes


def train_command(run: Run, work_dir: str, launcher: str, gpus: int,
                  partition: str = 'PARTITION', gpus_per_node: int = 8,
                  extra: Sequence[str] = ()) -> str:
    """The shell command that trains ``run`` on ``gpus`` GPUs with ``launcher``.

    Args:
        run: the run to train.
        work_dir: its work dir.
        launcher: one of ``LAUNCHERS``.
        gpus: GPUs in total, over all nodes.
        partition: the Slurm partition (``slurm``).
        gpus_per_node: GPUs of one node; ``dist`` beyond it gives the multi-node form,
            one command per node (``NODE_RANK`` and ``MASTER_ADDR`` left to fill in).
        extra: further tools/train.py options, e.g. ``['--auto-scale-lr']``.
    """
    nodes = num_nodes(launcher, gpus, gpus_per_node)
    config, work = shlex.quote(run.config), shlex.quote(work_dir)
    tail = ''.join(f' {shlex.quote(a)}' for a in extra)
    if launcher == 'dist':
        if nodes == 1:
            return f'bash tools/dist_train.sh {config} {gpus} --work-dir {work}{tail}'
        # Placeholders in <>: pasted unfilled, bash fails on them instead of training.
        return (f'NNODES={nodes} NODE_RANK=<0..{nodes - 1}> MASTER_ADDR=<address-of-node-0> '
                f'PORT=29500 bash tools/dist_train.sh {config} {gpus_per_node} '
                f'--work-dir {work}{tail}')
    if launcher == 'slurm':  # mmdet's convention: PARTITION JOB_NAME CONFIG WORK_DIR
        return (f'GPUS={gpus} GPUS_PER_NODE={min(gpus, gpus_per_node)} '
                f'bash tools/slurm_train.sh {shlex.quote(partition)} {run.name} {config} '
                f'{work}{tail}')
    if launcher == 'mim':
        mode = 'pytorch' if gpus > 1 else 'none'
        return (f'mim train kd_mmdet {config} --launcher {mode} --gpus {gpus} '
                f'--work-dir {work}{tail}')
    raise ValueError(f'tools/plan.py: --launcher must be one of {LAUNCHERS}, got {launcher!r}')


@functools.lru_cache(maxsize=None)
def config_batch(config: str) -> Tuple[int, Optional[int]]:
    """``train_dataloader.batch_size`` (per GPU) and ``auto_scale_lr.base_batch_size``
    (None when absent) of a repository-relative config; cached, as loading one takes
    seconds."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    return cfg.train_dataloader.batch_size, (cfg.get('auto_scale_lr') or {}).get(
        'base_batch_size')


def batch_mismatches(runs: Sequence[Run], gpus: int) -> List[str]:
    """One sentence per (per-GPU batch, recipe batch) the runs train at another total
    batch than their recipe's on ``gpus`` GPUs, naming both batches and the configs;
    empty when every run keeps its recipe's batch."""
    groups: Dict[Tuple[int, int, bool], List[str]] = {}
    for run in runs:
        per_gpu, base = config_batch(run.config)
        recipe = RECIPE_BATCH if base is None else base
        if gpus * per_gpu != recipe:
            groups.setdefault((per_gpu, recipe, base is not None), []).append(run.config)
    lines = []
    for (per_gpu, recipe, named), configs in groups.items():
        source = ('auto_scale_lr.base_batch_size of ' if named else
                  f"the plan's {RECIPE_GPUS} GPUs x {RECIPE_BATCH // RECIPE_GPUS} images; "
                  'no auto_scale_lr.base_batch_size in ')
        named_configs = configs[0] + (f' and {len(configs) - 1} more configs of the plan'
                                      if len(configs) > 1 else '')
        lines.append(f'{gpus} GPUs x {per_gpu} images = batch {gpus * per_gpu}, the '
                     f"recipe's is {recipe} ({source}{named_configs})")
    return lines


def lr_extra(runs: Sequence[Run], gpus: int, lr: Optional[str]) -> Tuple[List[str], List[str]]:
    """tools/train.py options for every command and ``# WARNING`` lines, given the total
    batch of ``runs`` on ``gpus`` GPUs and what to do with the lr (``lr``: None,
    ``'auto-scale'`` or ``'keep'``).

    Raises:
        ValueError: the batch differs from the recipe's and ``lr`` is None, or
            ``'auto-scale'`` on a config without ``auto_scale_lr.base_batch_size``
            (tools/train.py would refuse it).
    """
    if lr == 'auto-scale':
        missing = [r.config for r in runs if config_batch(r.config)[1] is None]
        if missing:
            raise ValueError('tools/plan.py: --auto-scale-lr needs auto_scale_lr.'
                             f'base_batch_size, which {", ".join(missing)} lack(s)')
        return ['--auto-scale-lr'], []
    mismatches = batch_mismatches(runs, gpus)
    if not mismatches:
        return [], []
    if lr == 'keep':
        return [], [f'# WARNING: {m}; --keep-lr: the learning rate stays the batch-'
                    f'{RECIPE_BATCH} one' for m in mismatches]
    raise ValueError(f'tools/plan.py: {"; ".join(mismatches)}; pass --auto-scale-lr to '
                     "scale the learning rate linearly (mmengine's auto_scale_lr), or "
                     f'--keep-lr to keep the batch-{RECIPE_BATCH} learning rate')


@dataclass
class ToySettings:
    """Size and schedule of the toy twin. The defaults (128 / 32 images of 96 px, students
    3 epochs, teachers 6 from scratch) check that every row of the plan trains and fills
    its cells in a few minutes; they are far too short to rank the methods."""
    num_train: int = 128
    num_val: int = 32
    img_size: int = 96
    epochs: int = 3
    teacher_epochs: int = 6
    seed: int = 0
    keep_all_scores: bool = False  # score_thr 0: 1-epoch smoke runs still log a mAP
    extra: Sequence[str] = ()  # further --cfg-options for every run

    def data_dir(self, root: str) -> str:
        return osp.join(root, 'data', f'digits_{self.num_train}-{self.num_val}_'
                                      f'{self.img_size}px')


def toy_command(run: Run, root: str, settings: ToySettings,
                teacher_ckpt: Optional[str]) -> List[str]:
    """``tools/train.py`` argv of one toy run (data, image size, seed and teacher set by
    :func:`kd_mmdet.datasets.digits_options.digits_run_options`, as the benchmark sets
    them)."""
    from kd_mmdet.datasets.digits_options import digits_run_options
    epochs = settings.teacher_epochs if run.role == 'teacher' else settings.epochs
    opts = digits_run_options(osp.join(REPO, run.config), settings.data_dir(root), 'det',
                              teacher_ckpt, settings.seed, settings.img_size,
                              settings.keep_all_scores, settings.extra)
    return [sys.executable, 'tools/train.py', run.config, '--epochs', str(epochs),
            '--work-dir', osp.join(root, run.name), '--cfg-options', *opts]


def toy_teacher_ckpt(plan: dict, run: Run, root: str, settings: ToySettings) -> Optional[str]:
    """The final checkpoint of the toy teacher a row distils from (None for the others)."""
    if run.role != 'row':
        return None
    config = plan['teachers'][run.teacher]['toy']
    name = osp.splitext(osp.basename(config))[0]
    return osp.join(root, name, f'epoch_{settings.teacher_epochs}.pth')


# ---- state and table -----------------------------------------------------------------
def run_state(row: Dict[str, object], epochs: Optional[int] = None) -> str:
    """``finished``, ``partial``, ``no mAP`` (trained, nothing evaluated) or ``not
    started``, from a row of repro_table's ``read_run``; with ``epochs``, a run trained
    for another number of epochs counts as not started."""
    if 'status' in row or 'epochs' not in row:
        return 'not started'
    if not isinstance(row['epochs'], int):
        return 'partial'
    if epochs is not None and row['epochs'] != epochs:
        return 'not started'
    return 'finished' if row.get('student mAP') is not None else 'no mAP'


def read_runs(runs: Sequence[Run], root: str) -> Dict[str, Dict[str, object]]:
    """repro_table's ``read_run`` of each run's work dir (missing dirs: not started)."""
    repro = load_repro_table()
    rows = {}
    for run in runs:
        work_dir = osp.join(root, run.name)
        rows[run.name] = (repro.read_run(work_dir) if osp.isdir(work_dir)
                          else dict(run=run.name, status='no work dir'))
    return rows


def status_table(plan: dict, runs: Sequence[Run], root: str) -> List[Dict[str, str]]:
    """One line per run: what it is, its state, and the plan's estimate."""
    repro = load_repro_table()
    read = read_runs(runs, root)
    table = []
    for run in runs:
        row = read[run.name]
        state = run_state(row)
        if state == 'partial':
            state = f'partial: {str(row["epochs"]).split()[0]} epochs'
        elif state == 'finished':
            state = (f'finished: {row["student mAP"]:.1f} mAP, {row["epochs"]} epochs, '
                     f'{repro.human_duration(row.get("wall time"))}')
        table.append(dict(run=run.name, method=run.method, config=run.config, state=state,
                          estimate=run.estimate or repro.MISSING))
    return table


def plan_table(plan: dict, runs: Sequence[Run], root: str, toy: bool) -> List[Dict[str, str]]:
    """The filled plan table: its rows in the plan's order, then the baselines; cells
    formatted by repro_table (``fmt``, ``with_delta``, ``human_duration``)."""
    repro = load_repro_table()
    read = read_runs(runs, root)
    # A baseline counts only once it has finished: no delta against a partial run.
    base_map = {r.student: read[r.name].get('student mAP') for r in runs
                if r.role == 'baseline' and run_state(read[r.name]) == 'finished'}
    ordered = [r for r in runs if r.role == 'row'] + [r for r in runs if r.role == 'baseline']
    table = []
    for run in ordered:
        row = repro.with_delta(dict(read[run.name]), base_map.get(run.student))
        finished = run_state(row) == 'finished'
        cells = dict(
            method=run.method,
            teacher=display_name(plan, run.teacher, toy) if run.teacher else repro.MISSING,
            student=display_name(plan, run.student, toy),
            time=repro.human_duration(row.get('wall time')) if finished else repro.MISSING)
        for key in ('teacher mAP', 'student mAP', 'epochs', DELTA):
            cells[key] = repro.fmt(row.get(key), key)
        if not finished:  # a partial or missing run fills in nothing but its state
            cells['epochs'] = {'partial': str(row.get('epochs')), 'no mAP': 'no mAP logged'}.get(
                run_state(row), 'not run')
            for key in ('teacher mAP', 'student mAP', DELTA):
                cells[key] = repro.MISSING
        table.append(cells)
    return table


# ---- the toy twin, end to end ----------------------------------------------------------
def run_toy(plan: dict, root: str, settings: ToySettings, jobs: int = 1) -> List[str]:
    """Data, teachers and baselines, then the rows; returns the runs it trained."""
    os.makedirs(root, exist_ok=True)
    data = settings.data_dir(root)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // jobs)))
    if not osp.isfile(osp.join(data, 'annotations', 'instances_val.json')):
        _call([sys.executable, 'tools/make_digits.py', data, '--train',
               str(settings.num_train), '--val', str(settings.num_val), '--size',
               str(settings.img_size), '--seed', str(settings.seed)],
              osp.join(root, 'make_digits.log'), env)
    runs = plan_runs(plan, toy=True)
    done = read_runs(runs, root)
    trained = []

    # Commands are built here, one at a time: mmengine's Config.fromfile is not safe to
    # call from several threads at once; the threads only wait for their process.
    commands = {}
    for run in runs:
        epochs = settings.teacher_epochs if run.role == 'teacher' else settings.epochs
        if run_state(done[run.name], epochs) in ('finished', 'no mAP'):
            print(f'[plan] {run.name}: finished before, kept')
        else:
            commands[run.name] = toy_command(run, root, settings,
                                             toy_teacher_ckpt(plan, run, root, settings))

    def train(run: Run) -> None:
        start = time.time()
        _call(commands[run.name], osp.join(root, f'{run.name}.log'), env)
        trained.append(run.name)
        print(f'[plan] {run.name}: trained in {time.time() - start:.0f} s')

    # Teachers and baselines do not depend on each other; the rows need the teachers.
    for stage in ([r for r in runs if r.role != 'row'], [r for r in runs if r.role == 'row']):
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(train, [r for r in stage if r.name in commands]))
    return trained


def _call(cmd: List[str], log: str, env: Dict[str, str]) -> None:
    """Run ``cmd`` from the repository root, output to ``log``; fail with its tail."""
    with open(log, 'w') as f:
        code = subprocess.call(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT, env=env)
    if code != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-20:])
        raise RuntimeError(f'tools/plan.py: {shlex.join(cmd)} exited with {code}; '
                           f'log {log}:\n{tail}')


# ---- preflight -----------------------------------------------------------------------
def preflight_runs(plan: dict, methods: Optional[Sequence[str]] = None) -> List[Run]:
    """The COCO runs ``--preflight`` checks: every row and both baselines, or with
    ``methods`` (``--rows``) those rows only, in the plan's order.

    Raises:
        ValueError: a name in ``methods`` is not a method of the plan.
    """
    runs = plan_runs(plan, toy=False)
    if not methods:
        return runs
    known = [r.method for r in runs if r.role == 'row']
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ValueError(f'tools/plan.py: --rows {", ".join(map(repr, unknown))}: not a '
                         f'method of the plan ({", ".join(known)})')
    return [r for r in runs if r.role == 'row' and r.method in methods]


def run_preflight(plan: dict, args: argparse.Namespace) -> int:
    """``--preflight``: tools/preflight.py on the runs of ``preflight_runs``; its table
    and records (``row`` = method or ``baseline``); 1 if a run fails or ``--rows`` names
    no row of the plan."""
    if args.toy:
        print('tools/plan.py: --preflight checks the COCO configs; --toy does not apply',
              file=sys.stderr)
        return 1
    try:
        runs = preflight_runs(plan, args.rows)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    preflight = load_tool_module('preflight.py')
    records = preflight.run_preflight([osp.join(REPO, r.config) for r in runs],
                                      preflight.options_from_args(args),
                                      {osp.join(REPO, r.config): r.method for r in runs})
    return preflight.report(records, args.json)


# ---- command line --------------------------------------------------------------------
def print_lines(plan: dict, runs: Sequence[Run], root: str, args: argparse.Namespace,
                settings: ToySettings) -> List[str]:
    """``--print``'s output: ``# WARNING`` lines (``--keep-lr``), then a comment and a
    command per run.

    Raises:
        ValueError: the COCO runs' total batch is not the recipe's and neither
            ``--auto-scale-lr`` nor ``--keep-lr`` was given, or the launcher cannot run
            on ``--gpus`` (see ``num_nodes``).
    """
    lines, extra, nodes = [], [], 1
    if not args.toy:
        nodes = num_nodes(args.launcher, args.gpus, args.gpus_per_node)
        extra, lines = lr_extra(runs, args.gpus, args.lr)
    where = (f'; run on each of the {nodes} nodes, NODE_RANK 0 to {nodes - 1}'
             if args.launcher == 'dist' and nodes > 1 else '')
    for run in runs:
        if args.toy:
            cmd = shlex.join(['python', *toy_command(
                run, root, settings, toy_teacher_ckpt(plan, run, root, settings))[1:]])
        else:
            cmd = train_command(run, osp.join(root, run.name), args.launcher, args.gpus,
                                args.partition, args.gpus_per_node, extra)
        student = display_name(plan, run.student, args.toy)
        if run.role == 'row':
            teacher = display_name(plan, run.teacher, args.toy)
            lines.append(f'# {run.method}: {teacher} -> {student}{where}')
        else:
            alone = ' alone' if run.role == 'baseline' else ''
            lines.append(f'# {run.role}: {student}{alone}{where}')
        lines.append(cmd)
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument('--print', action='store_true', help='the command of every run')
    action.add_argument('--status', action='store_true', help='which runs have finished')
    action.add_argument('--table', action='store_true', help='the filled plan table')
    action.add_argument('--preflight', action='store_true',
                        help='a few training steps of every COCO run (tools/preflight.py)')
    parser.add_argument('--toy', action='store_true',
                        help="the plan's twin on the digits set; alone: train it end to end")
    parser.add_argument('--plan', default=PLAN, help='plan file (default: %(default)s)')
    parser.add_argument('--work-root', help='work dirs of the runs (default: '
                        'work_dirs/plan, with --toy work_dirs/plan_toy)')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='dist',
                        help='--print: tools/dist_train.sh, tools/slurm_train.sh or mim train')
    parser.add_argument('--gpus', type=int, default=RECIPE_GPUS,
                        help='--print: GPUs per run, over all nodes')
    parser.add_argument('--gpus-per-node', type=int, default=8,
                        help='--print: GPUs of one node (dist beyond it: one command per node)')
    lr = parser.add_mutually_exclusive_group()
    lr.add_argument('--auto-scale-lr', action='store_const', dest='lr', const='auto-scale',
                    help=f'--print (COCO), total batch not {RECIPE_BATCH}: scale the lr '
                    'linearly (tools/train.py --auto-scale-lr)')
    lr.add_argument('--keep-lr', action='store_const', dest='lr', const='keep',
                    help=f'--print (COCO), total batch not {RECIPE_BATCH}: keep the batch-'
                    f'{RECIPE_BATCH} lr (prints a warning)')
    parser.add_argument('--partition', default='PARTITION', help='--print: slurm partition')
    parser.add_argument('--csv', help='--table: also write the table to this CSV file')
    toy = parser.add_argument_group('toy twin (--toy)')
    defaults = ToySettings()
    toy.add_argument('--epochs', type=int, default=defaults.epochs, help='students')
    toy.add_argument('--teacher-epochs', type=int, default=defaults.teacher_epochs)
    toy.add_argument('--train', type=int, default=defaults.num_train, help='train images')
    toy.add_argument('--val', type=int, default=defaults.num_val, help='val images')
    toy.add_argument('--img-size', type=int, default=defaults.img_size, help='image side, px')
    toy.add_argument('--seed', type=int, default=defaults.seed)
    toy.add_argument('--jobs', type=int, default=1,
                     help='runs side by side (OMP_NUM_THREADS = cores / jobs)')
    toy.add_argument('--keep-all-scores', action='store_true',
                     help='score_thr 0 everywhere: untrained smoke-run models still log a mAP')
    toy.add_argument('--cfg-options', nargs='+', default=[],
                     help='further key=value overrides for every toy run')
    preflight = parser.add_argument_group('preflight (--preflight)')
    preflight.add_argument('--rows', nargs='+', metavar='METHOD',
                           help='these rows only (default: every row and both baselines)')
    load_tool_module('preflight.py').add_preflight_arguments(preflight)
    args = parser.parse_args(argv)

    plan = load_plan(args.plan)
    if args.preflight:
        return run_preflight(plan, args)
    root = args.work_root or osp.join('work_dirs', 'plan_toy' if args.toy else 'plan')
    runs = plan_runs(plan, args.toy)
    repro = load_repro_table()
    settings = ToySettings(args.train, args.val, args.img_size, args.epochs,
                           args.teacher_epochs, args.seed, args.keep_all_scores,
                           args.cfg_options)
    if args.print:
        # Everything is checked before anything is printed: a refusal prints no commands.
        try:
            lines = print_lines(plan, runs, root, args, settings)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 1
        print('\n'.join(lines))
        return 0
    if args.status:
        print(repro.to_markdown(status_table(plan, runs, root),
                                ['run', 'method', 'config', 'state', 'estimate']))
        return 0
    if args.toy and not args.table:
        start = time.time()
        run_toy(plan, root, settings, args.jobs)
        print(f'[plan] toy plan trained in {(time.time() - start) / 60:.1f} min; '
              f'work dirs under {root}/\n')
    table = plan_table(plan, runs, root, args.toy)
    print(repro.to_markdown(table, PLAN_COLUMNS + [DELTA]))
    if args.csv:
        repro.write_csv(table, args.csv, PLAN_COLUMNS + [DELTA])
    return 0


if __name__ == '__main__':
    sys.exit(main())
