"""Reproduction table from mmengine work_dirs: what each run distilled and what it got.

    python tools/repro_table.py WORK_DIR [WORK_DIR ...] [--baseline WORK_DIR] [--csv F]

Columns: run | method | teacher | teacher mAP | student | student mAP | Δ vs baseline |
epochs | wall time. Box mAP is the last ``coco/bbox_mAP`` a run logged (×100); the
teacher's is the ``teacher.coco/bbox_mAP`` that mmrazor's distillation validation loop
logs beside it. A run that has no such number, or stopped before its last epoch, says
so: nothing is filled in.
"""
import argparse
import csv
import glob
import json
import os.path as osp
import re
import sys
from datetime import datetime
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

MISSING = '—'
COLUMNS = ['run', 'method', 'teacher', 'teacher mAP', 'student', 'student mAP',
           'Δ vs baseline', 'epochs', 'wall time']


def run_dirs(work_dir: str) -> List[str]:
    """Every ``<work_dir>/<timestamp>/`` that has logged scalars, oldest first: one per
    start of the run (``tools/train.py --resume`` adds one)."""
    return sorted(osp.dirname(osp.dirname(p)) for p in
                  glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def latest_run(work_dir: str) -> Optional[str]:
    """The newest ``<work_dir>/<timestamp>/`` that has logged scalars."""
    runs = run_dirs(work_dir)
    return runs[-1] if runs else None


# mmdet's own LD detector: the student with an LDHead and a teacher config of its own.
MMDET_LD = 'KnowledgeDistillationSingleStageDetector'


def is_mmdet_ld(model: dict) -> bool:
    return model.get('type', '').split('.')[-1] == MMDET_LD


def describe_model(model: dict) -> str:
    """`GFL R50` from a model dict, or the mmdet config name behind a ``cfg_path``."""
    if 'cfg_path' in model:
        return osp.splitext(osp.basename(model['cfg_path']))[0]
    backbone = model.get('backbone', {})
    # mmdet's LD detector is a GFL student with an LDHead
    name = 'GFL' if is_mmdet_ld(model) else model.get('type', '?').split('.')[-1]
    depth = backbone.get('depth')
    if depth is None:
        return name
    prefix = 'X' if 'ResNeXt' in backbone.get('type', '') else 'R'
    return f'{name} {prefix}{depth}'


def describe_method(cfg: Config) -> str:
    """Distillation methods of a run (e.g. ``CWD``, ``DKD+ReviewKD``, ``CrossKD+PKD``),
    or ``baseline``."""
    from kd_mmdet.methods import loss_method, method_of_type
    if is_mmdet_ld(cfg.model):
        return 'LD (mmdet LDHead)'
    model_type = str(cfg.model.get('type', ''))
    algorithm = method_of_type(model_type) if model_type else None
    distiller = cfg.model.get('distiller')
    if distiller is None and algorithm is None:
        return 'baseline'
    kinds = [algorithm] if algorithm else []
    distiller = distiller or {}
    for loss in distiller.get('distill_losses', {}).values():
        kind = loss_method(loss['type'])
        if kind not in kinds:
            kinds.append(kind)
    return '+'.join(kinds) or 'distill'


def _mmdet_ld_teacher(teacher_config: Optional[str]) -> Optional[str]:
    """The teacher of mmdet's LD detector, described from its ``teacher_config`` file."""
    if not teacher_config or not osp.isfile(teacher_config):
        return None
    return describe_model(Config.fromfile(teacher_config).model)


def wall_time(log_file: str) -> Optional[float]:
    """Seconds from the first to the last timestamped line of an mmengine log."""
    stamps = []
    pattern = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) - mmengine')
    with open(log_file) as f:
        for line in f:
            m = pattern.match(line)
            if m:
                stamps.append(datetime.strptime(m.group(1), '%Y/%m/%d %H:%M:%S'))
    return (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else None


def run_wall(work_dir: str) -> Optional[float]:
    """Seconds a run took over all its starts (``run_dirs``): the sum of each start's log,
    first to last timestamped line, so a run resumed with ``--resume`` counts its
    interrupted part too. None when no log has two timestamps."""
    walls = [wall_time(logs[0]) for logs in
             (sorted(glob.glob(osp.join(d, '*.log'))) for d in run_dirs(work_dir)) if logs]
    walls = [w for w in walls if w is not None]
    return sum(walls) if walls else None


def read_run(work_dir: str) -> Dict[str, object]:
    """One row of the table from one work_dir (values missing stay None)."""
    row: Dict[str, object] = dict(run=osp.basename(osp.normpath(work_dir)))
    run = latest_run(work_dir)
    if run is None:
        row['status'] = 'no logged run'
        return row
    cfg = Config.fromfile(osp.join(run, 'vis_data', 'config.py'))
    distill = 'architecture' in cfg.model
    row['method'] = describe_method(cfg)
    row['student'] = describe_model(cfg.model.architecture if distill else cfg.model)
    row['teacher'] = describe_model(cfg.model.teacher) if distill else None
    if is_mmdet_ld(cfg.model):
        row['teacher'] = _mmdet_ld_teacher(cfg.model.get('teacher_config'))
    rows = [json.loads(line) for line in open(osp.join(run, 'vis_data', 'scalars.json'))]
    vals = [r for r in rows if 'coco/bbox_mAP' in r]
    if vals:
        row['student mAP'] = 100 * vals[-1]['coco/bbox_mAP']
        if 'teacher.coco/bbox_mAP' in vals[-1]:
            row['teacher mAP'] = 100 * vals[-1]['teacher.coco/bbox_mAP']
    epochs_done = max((r.get('epoch', 0) for r in rows if 'loss' in r), default=0)
    max_epochs = cfg.train_cfg.get('max_epochs')
    row['epochs'] = epochs_done if epochs_done == max_epochs else \
        f'{epochs_done}/{max_epochs} (partial)'
    row['wall time'] = run_wall(work_dir)
    return row


def human_duration(seconds: Optional[float]) -> str:
    """A wall time in the unit a reader expects: minutes under an hour, hours under two
    days, days beyond (``42.0 min``, ``9.5 h``, ``2.3 days``)."""
    if seconds is None:
        return MISSING
    if seconds < 3600:
        return f'{seconds / 60:.1f} min'
    if seconds < 2 * 86400:
        return f'{seconds / 3600:.1f} h'
    return f'{seconds / 86400:.1f} days'


def with_delta(row: Dict[str, object], base_map: Optional[float]) -> Dict[str, object]:
    """Set ``row['Δ vs baseline']`` (student mAP − ``base_map``) where both are known."""
    if base_map is not None and row.get('student mAP') is not None:
        row['Δ vs baseline'] = row['student mAP'] - base_map
    return row


def fmt(value: object, key: str) -> str:
    if value is None:
        return MISSING
    if key == 'wall time':
        return f'{value / 60:.1f} min'
    if key == 'Δ vs baseline':
        return f'{value:+.1f}'
    if isinstance(value, float):
        return f'{value:.1f}'
    return str(value)


def build_table(work_dirs: List[str], baseline: Optional[str] = None) -> List[Dict[str, str]]:
    """Rows of formatted cells, in the order given (the baseline first if named)."""
    base_map = read_run(baseline).get('student mAP') if baseline else None
    ordered = ([baseline] if baseline else []) + [w for w in work_dirs if w != baseline]
    table = []
    for work_dir in ordered:
        row = with_delta(read_run(work_dir), base_map)
        cells = {k: fmt(row.get(k), k) for k in COLUMNS}
        if 'status' in row:
            cells['method'] = row['status']
        table.append(cells)
    return table


def to_markdown(table: List[Dict[str, str]], columns: Sequence[str] = COLUMNS) -> str:
    """A markdown table of ``columns`` (every row must have them)."""
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    lines += ['| ' + ' | '.join(r[k] for k in columns) + ' |' for r in table]
    return '\n'.join(lines)


def write_csv(table: List[Dict[str, str]], path: str,
              columns: Sequence[str] = COLUMNS) -> None:
    """The same table as CSV, header first."""
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction='ignore')
        writer.writeheader()
        writer.writerows(table)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', help='mmengine work_dirs, one per run')
    parser.add_argument('--baseline', help='work_dir of the student trained alone')
    parser.add_argument('--csv', help='also write the table to this CSV file')
    args = parser.parse_args(argv)
    table = build_table(args.work_dirs, args.baseline)
    print(to_markdown(table))
    if args.csv:
        write_csv(table, args.csv)


if __name__ == '__main__':
    sys.exit(main())
