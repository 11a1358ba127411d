"""Evaluate a checkpoint with the config's test loop (e.g. CocoMetric box mAP).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out-metrics FILE.json]
                         [--cfg-options k=v ...]

CHECKPOINT may be a plain detector checkpoint (with the detector's config) or a
distillation checkpoint (with the distillation config).
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the evaluation logs go')
    parser.add_argument('--out-metrics',
                        help='write the evaluator\'s metrics here as JSON (rank 0)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    args = parse_args()
    import kd_mmdet  # noqa: F401
    from kd_mmdet.compat import prepare_launcher
    from mmengine.runner import Runner

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    prepare_launcher(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if args.out_metrics and runner.rank == 0:
        import json
        out_dir = osp.dirname(osp.abspath(args.out_metrics))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out_metrics, 'w') as f:
            json.dump({k: float(v) if isinstance(v, (int, float)) else v
                       for k, v in metrics.items()}, f, indent=1)


if __name__ == '__main__':
    main()
