"""Linear-CKA heatmap of teacher stages × student stages on images of a validation set.

    python tools/analysis/cka_heatmap.py --distill CONFIG CKPT [--out cka.png]
    python tools/analysis/cka_heatmap.py --teacher CONFIG [CKPT] --student CONFIG [CKPT]
        [--num-images 32] [--batch-size 8] [--grid 4] [--out-json F] [--cfg-options ...]

With ``--distill`` the distillation config and checkpoint give both models (mmrazor's
``teacher`` and ``architecture``); otherwise two plain detector (or classifier) configs
with their checkpoints (none: the config's initial weights). The first ``--num-images``
images of the student config's validation set (``--split test``: its test set) go through
both models, each with its own data preprocessor. The outputs of every backbone stage
(``backbone[i]``, the backbone's ``out_indices``) and every neck level (``neck[i]``, the
FPN outputs) are collected and compared with linear CKA (Kornblith et al., ICML 2019;
``kd_mmdet.analysis.cka``).

Each map (N, C, H, W) is average-pooled to ``--grid`` × ``--grid`` cells and flattened to
(N, C·grid²) before CKA: a fixed grid lets stages of different strides be compared while
keeping their coarse spatial layout, which detection features are about. ``--grid 1`` is
global average pooling (what the channels respond to, wherever it is). CKA on few images
is biased upwards (the HSIC estimator is biased in 1/n): compare matrices made with the
same ``--num-images``.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--distill', nargs=2, metavar=('CONFIG', 'CKPT'),
                        help='a distillation config and checkpoint: teacher and student')
    parser.add_argument('--teacher', nargs='+', metavar=('CONFIG', 'CKPT'),
                        help='teacher config and (optional) checkpoint')
    parser.add_argument('--student', nargs='+', metavar=('CONFIG', 'CKPT'),
                        help='student config and (optional) checkpoint; its validation '
                        'set gives the images')
    parser.add_argument('--num-images', type=int, default=32,
                        help='images to compare on (default: 32)')
    parser.add_argument('--batch-size', type=int, default=8, help='default: 8')
    parser.add_argument('--grid', type=int, default=4,
                        help='average-pool each map to grid×grid before flattening; '
                        '1 = global average pooling (default: 4)')
    parser.add_argument('--split', choices=['val', 'test'], default='val',
                        help='which dataloader of the config gives the images')
    parser.add_argument('--out', default='work_dirs/cka/cka.png', help='heatmap PNG')
    parser.add_argument('--out-json', help='also write the matrix and stage names here')
    parser.add_argument('--dpi', type=int, default=110, help='PNG resolution (default: 110)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of every config given, e.g. the data root')
    args = parser.parse_args(argv)
    pair = args.teacher is not None or args.student is not None
    if (args.distill is None) == (not pair) or (pair and None in (args.teacher, args.student)):
        parser.error('give --distill CONFIG CKPT, or both --teacher and --student')
    for name in ('teacher', 'student'):
        if getattr(args, name) is not None and len(getattr(args, name)) > 2:
            parser.error(f'--{name} takes CONFIG and at most one CKPT')
    return args


def load_config(path: str, options: Optional[dict]) -> Config:
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def build_model(cfg: Config, checkpoint: Optional[str]):
    """The config's model in eval mode, with ``checkpoint`` loaded strictly."""
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import load_checkpoint
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None  # the distillation checkpoint holds the teacher
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.eval()  # not `return model.eval()`: mmrazor's train() returns None
    return model


def stage_outputs(model, inputs) -> Dict[str, object]:
    """Backbone stage outputs and neck levels of a detector or classifier, by name."""
    def as_tuple(x):
        return tuple(x) if isinstance(x, (list, tuple)) else (x, )

    feats = as_tuple(model.backbone(inputs))
    out = {f'backbone[{i}]': f for i, f in enumerate(feats)}
    if getattr(model, 'neck', None) is not None:
        out.update({f'neck[{i}]': f for i, f in enumerate(as_tuple(model.neck(feats)))})
    return out


def collect(models: Dict[str, object], dataloader, grid: int
            ) -> Dict[str, Tuple[List[str], list]]:
    """Per model: stage labels (with strides) and pooled (N, d) features of each stage."""
    import torch
    from mmengine.utils import ProgressBar

    from kd_mmdet.analysis.cka import pool_features
    pooled: Dict[str, Dict[str, list]] = {name: {} for name in models}
    labels: Dict[str, Dict[str, str]] = {name: {} for name in models}
    bar = ProgressBar(len(dataloader.dataset))
    with torch.no_grad():
        for batch in dataloader:
            for name, model in models.items():
                inputs = model.data_preprocessor(batch, False)['inputs']
                for stage, feat in stage_outputs(model, inputs).items():
                    pooled[name].setdefault(stage, []).append(pool_features(feat, grid))
                    if feat.dim() == 4:  # stride: a power of two, whatever the padding
                        stride = 2 ** round(math.log2(inputs.shape[-1] / feat.shape[-1]))
                        labels[name][stage] = f'{stage} /{stride}'
            for _ in batch['inputs']:
                bar.update()
    sys.stdout.write('\n')
    return {name: ([labels[name].get(s, s) for s in pooled[name]],
                   [torch.cat(chunks) for chunks in pooled[name].values()])
            for name in models}


def draw(matrix, teacher_labels: List[str], student_labels: List[str], title: str,
         xlabel: str, ylabel: str, path: str, dpi: int = 110) -> None:
    """Heatmap with every value written in its cell."""
    rows, cols = matrix.shape
    fig, ax = plt.subplots(figsize=(1.0 * cols + 3.2, 0.62 * rows + 2.4), layout='constrained')
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap='viridis', aspect='auto')
    for i in range(rows):
        for j in range(cols):
            v = float(matrix[i, j])
            ax.text(j, i, f'{v:.2f}', ha='center', va='center', fontsize=9,
                    color='black' if v > 0.6 else 'white')
    ax.set_xticks(range(cols), student_labels, rotation=40, ha='right', fontsize=9)
    ax.set_yticks(range(rows), teacher_labels, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label='linear CKA', shrink=0.9)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import kd_mmdet  # noqa: F401  registers kd_mmdet, applies kd_mmdet.compat
    from mmengine.runner import Runner

    from kd_mmdet.analysis.cka import cka_matrix

    if args.distill is not None:
        cfg = load_config(args.distill[0], args.cfg_options)
        algorithm = build_model(cfg, args.distill[1])
        models = dict(teacher=algorithm.teacher, student=algorithm.architecture)
        names = dict(teacher=f'teacher of {osp.basename(args.distill[0])}',
                     student=f'student of {osp.basename(args.distill[0])}')
        data_cfg = cfg
    else:
        models, names = {}, {}
        for role in ('teacher', 'student'):
            config, *ckpt = getattr(args, role)
            role_cfg = load_config(config, args.cfg_options)
            models[role] = build_model(role_cfg, ckpt[0] if ckpt else None)
            names[role] = f'{role}: {osp.basename(config)}' + ('' if ckpt else ' (no ckpt)')
        data_cfg = role_cfg  # the student's

    loader_cfg = data_cfg.get(f'{args.split}_dataloader').copy()
    loader_cfg.update(batch_size=args.batch_size, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False))
    loader_cfg.pop('batch_sampler', None)
    loader_cfg.dataset.indices = args.num_images  # the first N images, always the same
    dataloader = Runner.build_dataloader(loader_cfg, seed=0)
    feats = collect(models, dataloader, args.grid)
    (t_labels, t_feats), (s_labels, s_feats) = feats['teacher'], feats['student']
    matrix = cka_matrix(t_feats, s_feats)

    n = len(dataloader.dataset)
    if n < 32:
        print(f'cka_heatmap: {n} images; CKA on few samples is biased towards 1, compare '
              'only matrices made on the same images', file=sys.stderr)
    pooling = 'global average pooling' if args.grid == 1 else \
        f'{args.grid}×{args.grid} average pooling'
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    draw(matrix.numpy(), t_labels, s_labels,
         f'Linear CKA, teacher × student stages\n{n} {args.split} images, {pooling}; '
         '/n after a stage: its stride', names['student'], names['teacher'], args.out, args.dpi)
    print(args.out)
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(dict(teacher_stages=t_labels, student_stages=s_labels,
                           num_images=n, grid=args.grid, cka=matrix.tolist()), f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
