"""Plot loss and mAP curves of one or more mmengine work_dirs (distillation or plain runs).

    python tools/analysis/plot_curves.py WORK_DIR [WORK_DIR ...] [--out-dir DIR]
        [--labels NAME ...] [--metric coco/bbox_mAP]

Reads the newest ``<work_dir>/<timestamp>/vis_data/scalars.json`` of each run and writes
two PNGs into ``--out-dir``:

* ``losses.png``: one panel per loss term over iterations, runs as coloured lines — the
  total loss, the student's own losses (``student.loss_*`` of a distillation run share a
  panel with ``loss_*`` of a plain run) and every ``distill.*`` term;
* ``<metric>.png`` (``coco_bbox_mAP.png``): the validation metric over epochs, ×100,
  solid for the student and dashed for ``teacher.<metric>`` where mmrazor's distillation
  validation loop logged it.
"""
import argparse
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import matplotlib

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dirs', nargs='+', help='mmengine work_dirs, one per run')
    parser.add_argument('--out-dir', default='work_dirs/curves',
                        help='where the PNGs go (default: work_dirs/curves)')
    parser.add_argument('--labels', nargs='+', help='legend names of the runs, in order '
                        '(default: the work_dir names)')
    parser.add_argument('--metric', default='coco/bbox_mAP',
                        help='validation metric to plot (default: coco/bbox_mAP)')
    parser.add_argument('--dpi', type=int, default=110, help='PNG resolution (default: 110)')
    return parser.parse_args(argv)


def run_labels(work_dirs: List[str], labels: Optional[List[str]]) -> List[str]:
    """The given labels, else folder names (whole paths where two names clash)."""
    if labels is not None:
        if len(labels) != len(work_dirs):
            raise SystemExit(f'plot_curves: {len(labels)} --labels for {len(work_dirs)} '
                             'work_dirs')
        return labels
    names = [osp.basename(osp.normpath(w)) for w in work_dirs]
    return names if len(set(names)) == len(names) else [osp.normpath(w) for w in work_dirs]


def panel_title(group: str, term: str) -> str:
    """``total loss``, ``loss_cls`` (the model's own), ``distill.loss_cwd_fpn0``."""
    return {'total': 'total loss', 'student': term}.get(group, f'{group}.{term}')


def plot_losses(train: Dict[str, list], colors: Dict[str, str], path: str,
                dpi: int = 110) -> bool:
    """One panel per loss term; False when no run logged a loss."""
    from kd_mmdet.analysis.curves import loss_panels
    panels = loss_panels(train)
    if not panels:
        return False
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows + 1.0),
                             squeeze=False, layout='constrained')
    for ax, ((group, term), curves) in zip(axes.flat, panels.items()):
        for label, (xs, ys) in curves.items():
            ax.plot(xs, ys, color=colors[label], marker='.' if len(xs) < 20 else None,
                    linewidth=1.5)
        ax.set_title(panel_title(group, term), fontsize=10)
        ax.set_xlabel('iteration', fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=c, linewidth=2) for c in colors.values()]
    fig.legend(handles, list(colors), loc='outside lower center',
               ncol=min(4, len(colors)), frameon=False, fontsize=9)
    fig.suptitle('Training losses (loss_*: the detector\'s own, student.loss_* in a '
                 'distillation run)', fontsize=11)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


def plot_metric(val: Dict[str, list], colors: Dict[str, str], metric: str, x_label: str,
                path: str, dpi: int = 110) -> bool:
    """Student (solid) and teacher (dashed) metric per run; False when none was logged."""
    from kd_mmdet.analysis.curves import metric_curve
    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout='constrained')
    steps = set()
    for i, (label, rows) in enumerate(val.items()):
        marker = 'o^Dvsp'[i % 6]  # tells runs apart where their points coincide
        for key, line, fill, suffix in ((metric, '-', colors[label], ''),
                                        (f'teacher.{metric}', '--', 'white', ' (teacher)')):
            xs, ys = metric_curve(rows, key)
            if xs:
                ax.plot(xs, [100 * y for y in ys], line, marker=marker, color=colors[label],
                        markerfacecolor=fill, markersize=6, label=label + suffix)
                steps.update(xs)
    if not steps:
        plt.close(fig)
        return False
    ax.set_xlim(min(steps) - 0.5, max(steps) + 0.5)  # a single epoch still gets room
    ax.set_title(f'{metric} on the validation set', fontsize=12)
    ax.set_xlabel(x_label)
    ax.set_ylabel(f'{metric} (×100)')
    if len(steps) <= 12:
        ax.set_xticks(sorted(steps))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from kd_mmdet.analysis.curves import read_scalars, scalars_file

    labels = run_labels(args.work_dirs, args.labels)
    train, val = {}, {}
    for label, work_dir in zip(labels, args.work_dirs):
        path = scalars_file(work_dir)
        if path is None:
            print(f'plot_curves: {work_dir} has no */vis_data/scalars.json; skipped',
                  file=sys.stderr)
            continue
        train[label], val[label] = read_scalars(path)
    if not train:
        print('plot_curves: no run to plot', file=sys.stderr)
        return 1
    palette = plt.rcParams['axes.prop_cycle'].by_key()['color']
    colors = {label: palette[i % len(palette)] for i, label in enumerate(train)}
    by_epoch = any('epoch' in row for rows in train.values() for row in rows)
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    losses_png = osp.join(args.out_dir, 'losses.png')
    if plot_losses(train, colors, losses_png, args.dpi):
        written.append(losses_png)
    metric_png = osp.join(args.out_dir, args.metric.replace('/', '_') + '.png')
    if plot_metric(val, colors, args.metric, 'epoch' if by_epoch else 'iteration',
                   metric_png, args.dpi):
        written.append(metric_png)
    else:
        print(f'plot_curves: no run logged {args.metric}; {metric_png} not written',
              file=sys.stderr)
    for path in written:
        print(path)
    return 0 if written else 1


if __name__ == '__main__':
    sys.exit(main())
