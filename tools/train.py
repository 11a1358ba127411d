"""Train a detector, a classifier or a distiller from a config with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--auto-scale-lr]
                          [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG NUM_PROCS [...]        # torchrun, one process per GPU
    bash tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR [...]   # srun, one task per GPU
    mim train kd_mmdet CONFIG [--launcher pytorch --gpus N] [...]

Options after the script's own arguments (``[...]``) reach this script unchanged.
``--auto-scale-lr`` does what mmdet 3.3's tools/train.py does: it enables the config's
``auto_scale_lr``, and mmengine's Runner then multiplies the learning rate by
(world size x ``train_dataloader.batch_size``) / ``auto_scale_lr.base_batch_size``, e.g.
x2 for 16 GPUs x 2 images on a recipe written for batch 16. The config must give
``auto_scale_lr.base_batch_size`` (mmdet's schedules do; ``--cfg-options
auto_scale_lr.base_batch_size=16`` adds it).

Works for kd_mmdet, mmdet and mmrazor configs alike; importing kd_mmdet first applies the
fixes in ``kd_mmdet.compat`` (mmrazor on torch 2, safe checkpoint loading, CPU DDP).
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line (``argv``, default ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint of the '
                        'work dir when no path is given')
    parser.add_argument('--epochs', type=int,
                        help='shorten or lengthen an epoch-based schedule: sets max_epochs '
                        'and moves every schedule boundary that sat at the old end')
    parser.add_argument('--amp', action='store_true', help='mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate linearly with the total batch '
                        '(GPUs x batch per GPU) over auto_scale_lr.base_batch_size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch < 2 launchers pass --local_rank, torch >= 2 pass --local-rank: take both.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def set_max_epochs(cfg: Config, epochs: int) -> None:
    """Set ``train_cfg.max_epochs`` and move every boundary that sat at the old end.

    The end of each epoch-based parameter schedule (and a cosine ``T_max``), the
    validation interval and the checkpoint interval follow, so a shortened schedule
    still decays fully and is still evaluated and saved at its end.
    """
    if epochs < 1:
        raise ValueError(f'tools/train.py: --epochs must be >= 1, got {epochs}')
    old = cfg.train_cfg.get('max_epochs')
    if old is None:
        raise ValueError('tools/train.py: --epochs needs an epoch-based train_cfg '
                         f'(max_epochs), got {cfg.train_cfg}')
    cfg.train_cfg.max_epochs = epochs
    if cfg.train_cfg.get('val_interval', 1) >= old:
        cfg.train_cfg.val_interval = epochs
    for sched in cfg.get('param_scheduler') or []:
        if sched.get('by_epoch', True):
            for key in ('end', 'T_max'):
                if sched.get(key) == old:
                    sched[key] = epochs
    ckpt = cfg.get('default_hooks', {}).get('checkpoint')
    if ckpt is not None and ckpt.get('interval', 1) >= old:
        ckpt.interval = epochs


def apply_auto_scale_lr(cfg: Config) -> None:
    """Enable ``cfg.auto_scale_lr`` (``--auto-scale-lr``), as mmdet 3.3's tools/train.py.

    mmengine's Runner then scales the learning rate by (world size x batch per GPU) /
    ``base_batch_size``. Checked here because the Runner only asserts on a missing
    ``base_batch_size`` once the model and optimizer are built.

    Raises:
        ValueError: the config has no ``auto_scale_lr.base_batch_size``.
    """
    if (cfg.get('auto_scale_lr') or {}).get('base_batch_size') is None:
        raise ValueError('tools/train.py: --auto-scale-lr needs auto_scale_lr.base_batch_size '
                         'in the config (e.g. --cfg-options '
                         'auto_scale_lr.base_batch_size=16 for a batch-16 recipe)')
    cfg.auto_scale_lr.enable = True


def main() -> None:
    args = parse_args()
    import kd_mmdet  # noqa: F401  registers kd_mmdet and applies kd_mmdet.compat
    from kd_mmdet.compat import prepare_launcher
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.epochs is not None:
        set_max_epochs(cfg, args.epochs)
    if args.auto_scale_lr:  # after --cfg-options, which may supply base_batch_size
        apply_auto_scale_lr(cfg)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    prepare_launcher(cfg, args.launcher)

    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
