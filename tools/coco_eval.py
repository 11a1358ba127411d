"""COCO box (or mask) AP of a checkpoint or of a saved results file, with per-class AP.

    python tools/coco_eval.py CONFIG CHECKPOINT [--cfg-options k=v ...] [--work-dir DIR]
    python tools/coco_eval.py --results RESULTS.json --ann ANN.json
    ... [--iou-type bbox|segm] [--out-json F] [--out-csv F]

With a config and a checkpoint, the config's test dataloader is run through mmengine's
Runner test loop (mmdet's ``CocoMetric`` with ``format_only=True`` writes the detections
to ``WORK_DIR/results.bbox.json``); a distillation config evaluates its student, as
mmrazor's algorithms predict with their ``architecture``. With ``--results`` a COCO
results JSON is evaluated against ``--ann`` (or the config's annotation file). Either way
pycocotools' COCOeval makes the numbers: the COCO summary, AP/AP50/AP75/APs/APm/APl and
a per-class table. ``--out-json`` writes all of it, ``--out-csv`` the per-class table
with an ``all`` row first. Values are fractions, as COCO prints them; ``—`` (null in the
JSON, empty in the CSV) means undefined: no ground truth of that class or area range.
"""
import argparse
import csv
import json
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

from mmengine.config import Config, DictAction

PER_CLASS_COLUMNS = ['class', 'num_gt', 'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl']


class CheckpointMismatch(ValueError):
    """The checkpoint's keys are not the model's."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?', help='mmdet or distillation config')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint to evaluate with CONFIG')
    parser.add_argument('--results', help='a COCO results JSON to evaluate instead of '
                        'running a model')
    parser.add_argument('--ann', help='COCO annotation file (default with a config: its '
                        'test evaluator\'s ann_file)')
    parser.add_argument('--iou-type', choices=['bbox', 'segm'], default='bbox',
                        help='box or mask AP (default: bbox)')
    parser.add_argument('--work-dir', help='with a checkpoint: where logs and the results '
                        'JSON go (default: ./work_dirs/coco_eval/<config name>)')
    parser.add_argument('--out-json', help='write summary, metrics and per-class AP here')
    parser.add_argument('--out-csv', help='write the per-class table (and an "all" row) here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. test_dataloader.batch_size=4')
    args = parser.parse_args(argv)
    if args.results is None and (args.config is None or args.checkpoint is None):
        parser.error('give CONFIG CHECKPOINT, or --results (with --ann or CONFIG)')
    if args.results is not None and args.checkpoint is not None:
        parser.error('give either a CHECKPOINT or --results, not both')
    if args.results is not None and args.ann is None and args.config is None:
        parser.error('--results needs --ann or a CONFIG that names the annotation file')
    return args


def annotation_file(cfg: Config) -> str:
    """The test evaluator's ``ann_file``, else the test dataset's own annotation file."""
    evaluators = cfg.get('test_evaluator')
    for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
        if isinstance(evaluator, dict) and evaluator.get('ann_file'):
            return evaluator['ann_file']
    dataset = cfg.test_dataloader.dataset
    return osp.join(dataset.get('data_root', ''), dataset.ann_file)


def check_fits(model, checkpoint: str) -> None:
    """Raise CheckpointMismatch unless ``checkpoint`` has exactly the model's keys.

    The Runner loads non-strictly and only warns: a distillation checkpoint given with
    the student's config would be evaluated with random weights.
    """
    from mmengine.runner import CheckpointLoader
    state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    keys = {re.sub(r'^module\.', '', k) for k in state.get('state_dict', state)}
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - keys), sorted(keys - expected)
    if missing or unexpected:
        raise CheckpointMismatch(
            f'{checkpoint} does not fit the config\'s {type(model).__name__}: '
            f'{len(missing)} missing keys {missing[:3]}, {len(unexpected)} unexpected '
            f'{unexpected[:3]} (a distillation checkpoint needs its distillation config; '
            'tools/export_student.py makes a student checkpoint)')


def run_model(cfg: Config, checkpoint: str, ann_file: str, iou_type: str) -> str:
    """Detections of ``checkpoint`` on the config's test set, as a COCO results JSON path."""
    import kd_mmdet  # noqa: F401  registers kd_mmdet, applies kd_mmdet.compat
    from mmengine.hooks import Hook
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    from mmengine.utils import ProgressBar

    class ProgressBarHook(Hook):
        """One progress bar over the test set (the logger's per-iteration lines are off)."""

        def before_test_epoch(self, runner) -> None:
            self.bar = ProgressBar(len(runner.test_dataloader.dataset))

        def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            for _ in outputs or []:
                self.bar.update()
            if self.bar.completed >= self.bar.task_num:
                self.bar.file.write('\n')  # the metric's log lines start on their own

    prefix = osp.join(cfg.work_dir, 'results')
    cfg.test_evaluator = dict(
        type='mmdet.CocoMetric', ann_file=ann_file, format_only=True,
        outfile_prefix=prefix, metric=['bbox', 'segm'] if iou_type == 'segm' else 'bbox')
    # A distillation checkpoint holds the teacher's weights; do not fetch its own.
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    logger_hook = cfg.get('default_hooks', {}).get('logger')
    if logger_hook is not None:
        logger_hook.interval = 10**9  # the progress bar says how far the loop is
    cfg.load_from = checkpoint
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    check_fits(runner.model, checkpoint)
    runner.register_hook(ProgressBarHook(), priority='VERY_LOW')
    runner.test()
    return f'{prefix}.{iou_type}.json'


def report(result: Dict[str, object]) -> str:
    """The COCO summary, the headline APs and the per-class table, as printed."""
    from kd_mmdet.analysis.coco import PER_CLASS_KEYS, format_table
    headline = {k: result['metrics'][k] for k in PER_CLASS_KEYS}
    return '\n\n'.join([
        result['summary'],
        format_table([dict(headline, **{'class': 'all'})], ['class', *PER_CLASS_KEYS]),
        format_table(result['per_class'], PER_CLASS_COLUMNS)])


def write_csv(result: Dict[str, object], path: str) -> None:
    """Per-class rows after an ``all`` row; 4 decimals, undefined values empty."""
    from kd_mmdet.analysis.coco import PER_CLASS_KEYS
    overall = {k: result['metrics'][k] for k in PER_CLASS_KEYS}
    overall.update({'class': 'all', 'num_gt': sum(r['num_gt'] for r in result['per_class'])})
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=PER_CLASS_COLUMNS, extrasaction='ignore')
        writer.writeheader()
        for row in [overall, *result['per_class']]:
            writer.writerow({k: f'{v:.4f}' if isinstance(v, float) else v
                             for k, v in row.items()})


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from kd_mmdet.analysis.coco import ResultsError, evaluate_coco, load_coco_quietly

    cfg = None
    if args.config is not None:
        cfg = Config.fromfile(args.config)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        # Not the config's own work_dir: an evaluation must not mix with a training run.
        cfg.work_dir = args.work_dir or osp.join(
            './work_dirs', 'coco_eval', osp.splitext(osp.basename(args.config))[0])
    ann_file = args.ann or annotation_file(cfg)
    results = args.results
    try:
        if results is None:
            results = run_model(cfg, args.checkpoint, ann_file, args.iou_type)
            print(f'detections saved to {results}')
        result = evaluate_coco(load_coco_quietly(ann_file), results, args.iou_type)
    except (CheckpointMismatch, ResultsError) as e:
        print(f'coco_eval: {e}', file=sys.stderr)
        return 1
    print(report(result))
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(dict(ann_file=ann_file, results=results, iou_type=args.iou_type,
                           **result), f, indent=2)
    if args.out_csv:
        write_csv(result, args.out_csv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
