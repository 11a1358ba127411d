"""Training curves from mmengine work_dirs: which scalars a run logged, grouped for plots.

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/scalars.json``,
one JSON object a line: training lines carry ``iter`` (global) and ``epoch`` beside the
losses; validation lines carry the metrics (``coco/bbox_mAP``, and mmrazor's
``teacher.coco/bbox_mAP``) and ``step`` (the epoch, or the iteration in iteration-based
loops). A distillation run logs the student's own losses as ``student.loss_*`` and the
distillation terms as ``distill.*``; a plain run logs ``loss_*``.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

Row = Dict[str, float]
Curve = Tuple[List[float], List[float]]  # (x, y)
Panels = Dict[Tuple[str, str], Dict[str, Curve]]  # (group, term) -> run label -> curve


def scalars_file(work_dir: str) -> Optional[str]:
    """The newest ``<work_dir>/<timestamp>/vis_data/scalars.json``, or None.

    Only the newest run of a work_dir is read (as ``tools/repro_table.py`` does): a
    later run in the same folder is taken to replace the earlier one.
    """
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    return files[-1] if files else None


def read_scalars(path: str) -> Tuple[List[Row], List[Row]]:
    """``(train_rows, val_rows)`` of a scalars.json, in logged order."""
    train, val = [], []
    with open(path) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                (train if 'iter' in row else val).append(row)
    return train, val


def is_loss(key: str) -> bool:
    """``loss``, ``loss_cls``, ``student.loss_bbox``, ``distill.loss_cwd_fpn0``, ``s0.loss_cls``."""
    return key.rsplit('.', 1)[-1].startswith('loss')


def loss_term(key: str) -> Tuple[str, str]:
    """``(group, name)`` of a logged loss key, so that runs with and without a teacher
    share panels: ``total``, ``student`` (the model's own losses, ``student.`` dropped),
    ``distill``, or ``teacher`` (mmrazor logs a trainable teacher's losses)."""
    if key == 'loss':
        return 'total', 'loss'
    for group in ('distill', 'student', 'teacher'):
        if key.startswith(group + '.'):
            return group, key[len(group) + 1:]
    return 'student', key


def loss_panels(runs: Dict[str, List[Row]]) -> Panels:
    """Curves to draw, one panel per loss term: ``{(group, name): {run: (iters, values)}}``.

    Panels come in the order total, student, distill, teacher; within a group, in the
    order the terms were first logged.

    Args:
        runs: training rows per run label (see :func:`read_scalars`).
    """
    order = {'total': 0, 'student': 1, 'distill': 2, 'teacher': 3}
    panels: Panels = {}
    for label, rows in runs.items():
        for row in rows:
            for key, value in row.items():
                if not is_loss(key):
                    continue
                xs, ys = panels.setdefault(loss_term(key), {}).setdefault(label, ([], []))
                xs.append(row['iter'])
                ys.append(value)
    first_seen = list(panels)
    return dict(sorted(panels.items(),
                       key=lambda kv: (order[kv[0][0]], first_seen.index(kv[0]))))


def metric_curve(val_rows: List[Row], key: str) -> Curve:
    """``(steps, values)`` of a validation metric, e.g. ``coco/bbox_mAP``."""
    points = [(row['step'], row[key]) for row in val_rows if key in row]
    return [p[0] for p in points], [p[1] for p in points]
