"""FGD's foreground/background masks and attention maps over input images, per FPN level.

    python tools/analysis/fgd_masks.py CONFIG [--checkpoint CKPT] [--student-ckpt CKPT]
        [--num-images 4 | --indices I ...] [--split val|test|train] [--levels 0 1 2]
        [--raw-student] [--log-attention] [--temp T] [--out-dir DIR] [--dpi 90] [--palette]
        [--cfg-options ...]

CONFIG is an FGD distillation config (``configs/fgd/``; Yang et al., "Focal and Global
Knowledge Distillation for Detectors", CVPR 2022) or a plain detector config. Weights:

* distillation config: ``--checkpoint`` is a distillation checkpoint (teacher, student
  and the losses' align convs). Without it the teacher comes from the config's
  ``teacher_ckpt`` (``--cfg-options model.teacher_ckpt=None``: random), the student from
  ``--student-ckpt`` (a plain checkpoint of the student detector, e.g. the student
  trained alone) or its random init;
* plain detector config: ``--checkpoint`` is the detector's checkpoint; its own maps are
  drawn, with temperature ``--temp`` (default 0.5, FGD's for GFL/RetinaNet/Faster R-CNN).

Images are the first ``--num-images`` (or ``--indices``) of the config's ``--split``
dataset, one at a time through its pipeline (with the annotations loaded before any
resize, so the boxes are in network-input pixels as in training) and the model's data
preprocessor; ``extract_feat`` gives the FPN levels. One PNG per image,
``<out-dir>/<image name>_fgd.png``, one row per level (``--levels``, neck output
indices; default: every level an FGD loss of the config reads, else every neck output):

  image and GT boxes | foreground mask (1 / box area in cells, max over boxes) |
  background mask (1 / N_bg) | teacher spatial attention S_t | student S_s |
  channel attention A, teacher sorted high to low (log scale), student at the same
  channels (dots), or sorted on its own (dashed) with ``--raw-student``

All maps come from ``kd_mmdet.models.losses.fgd_loss`` (through
``kd_mmdet.analysis.fgd_maps``): they are what the loss weights with. The student's
attention is taken, as in the loss, after the loss's 1x1 align conv when the channels
differ (``--raw-student``: on the student's own channels). With a distillation config
each row also gives the loss's four weighted terms (fg, bg, mask, global) on the image.
"""
import argparse
import io
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FormatStrFormatter  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='FGD distillation config, or a detector config')
    parser.add_argument('--checkpoint', help='distillation checkpoint (with a distillation '
                        'config) or detector checkpoint')
    parser.add_argument('--student-ckpt', help='with a distillation config and no '
                        '--checkpoint: plain checkpoint of the student detector')
    images = parser.add_mutually_exclusive_group()
    images.add_argument('--num-images', type=int, default=4,
                        help='the first N images of the split (default: 4)')
    images.add_argument('--indices', type=int, nargs='+', help='these dataset indices')
    parser.add_argument('--split', choices=['val', 'test', 'train'], default='val',
                        help='which dataloader of the config gives the images (train: '
                        'its pipeline\'s random augmentations apply)')
    parser.add_argument('--levels', type=int, nargs='+',
                        help='neck output indices to draw (default: all FGD levels)')
    parser.add_argument('--log-attention', action='store_true',
                        help='spatial attention on a log colour scale (default: linear, '
                        'the weights as the loss applies them)')
    parser.add_argument('--raw-student', action='store_true',
                        help='student attention on its own channels, not after the '
                        'loss\'s align conv')
    parser.add_argument('--temp', type=float,
                        help='attention temperature for a plain detector config '
                        '(default 0.5; a distillation config uses its FGDLoss temp)')
    parser.add_argument('--out-dir', default='work_dirs/fgd_masks',
                        help='where PNGs go (default: work_dirs/fgd_masks)')
    parser.add_argument('--dpi', type=int, default=90, help='PNG resolution (default: 90)')
    parser.add_argument('--palette', action='store_true',
                        help='save 256-colour PNGs (about a third of the size, e.g. for '
                        'documentation)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. the data root')
    args = parser.parse_args(argv)
    if args.num_images < 1:
        parser.error('--num-images must be >= 1')
    return args


def is_distillation(cfg: Config) -> bool:
    return 'architecture' in cfg.model and 'teacher' in cfg.model


def build_model(cfg: Config, checkpoint: Optional[str] = None,
                student_ckpt: Optional[str] = None, seed: int = 0):
    """The config's model in eval mode, with checkpoints loaded strictly.

    Weights no checkpoint gives (e.g. the losses' align convs) are initialised with
    ``seed``, so that two runs draw the same maps.
    """
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import load_checkpoint, set_random_seed
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    set_random_seed(seed)
    if student_ckpt is not None and (checkpoint is not None or not is_distillation(cfg)):
        raise SystemExit('fgd_masks: --student-ckpt goes with a distillation config and '
                         'no --checkpoint')
    if checkpoint is not None and 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None  # the distillation checkpoint holds the teacher
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    if student_ckpt is not None:
        load_checkpoint(model.architecture, student_ckpt, map_location='cpu', strict=True)
    model.eval()  # not `return model.eval()`: mmrazor's train() returns None
    return model


def build_dataloader(cfg: Config, split: str, images):
    """One image a batch, in dataset order; ``images`` is a count or a list of indices."""
    from mmengine.runner import Runner

    from kd_mmdet.analysis.fgd_maps import annotations_first
    loader_cfg = cfg.get(f'{split}_dataloader').copy()
    if 'pipeline' not in loader_cfg.dataset:
        raise SystemExit(f'fgd_masks: the {split} dataset {loader_cfg.dataset.type} has no '
                         'pipeline of its own (a wrapper); use another --split')
    loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False))
    loader_cfg.pop('batch_sampler', None)
    loader_cfg.dataset.pipeline = annotations_first(loader_cfg.dataset.pipeline)
    loader_cfg.dataset.indices = images
    return Runner.build_dataloader(loader_cfg, seed=0)


def connected(distiller, loss_name: str, feat_S):
    """The student map after the connector the loss's ``preds_S`` mapping names, if any."""
    record = distiller.loss_forward_mappings[loss_name]['preds_S']
    if record.get('connector'):
        feat_S = distiller.connectors[record['connector']](feat_S)
    if record.get('connector_idx') is not None:
        feat_S = feat_S[record['connector_idx']]
    return feat_S


def image_maps(model, batch, levels: Optional[List[int]] = None, temp: float = 0.5,
               raw_student: bool = False) -> Dict[str, object]:
    """FGD's maps of the one image in ``batch`` on each level.

    Returns:
        dict with ``image`` (h, w, 3) uint8 RGB before normalisation and padding,
        ``boxes`` (K, 4) and ``labels`` (K, ) of the ground truth in input pixels,
        ``batch_input_shape`` and ``img_path``, and ``levels``: one dict per level with
        ``level`` (neck output index), ``name`` ('P3'), ``stride``, ``maps``
        (:class:`~kd_mmdet.analysis.fgd_maps.FGDMaps`), and for a distillation model
        ``loss`` (its name), ``terms`` (the loss's weighted terms on this image) and
        ``student_channels`` (channels the student's attention is taken over).
    """
    import torch

    from kd_mmdet.analysis.fgd_maps import fgd_levels, fgd_maps, level_name
    if len(batch['inputs']) != 1:
        raise ValueError(f'image_maps: one image a batch, got {len(batch["inputs"])}')
    distill = hasattr(model, 'distiller') and hasattr(model, 'teacher')
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        inputs, sample = data['inputs'], data['data_samples'][0]
        if distill:
            feats_T = model.teacher.extract_feat(inputs)
            feats_S = model.architecture.extract_feat(inputs)
            losses = fgd_levels(model.distiller)
        else:
            feats_T, feats_S = model.extract_feat(inputs), None
            losses = {}
        available = list(losses) if distill else list(range(len(feats_T)))
        levels = available if levels is None else levels
        missing = [level for level in levels if level not in available]
        if missing:
            what = 'FGD losses of the config read' if distill else 'the neck has'
            raise SystemExit(f'fgd_masks: no level {missing}; the {what} levels '
                             f'{available}')
        boxes = sample.gt_instances.bboxes
        boxes = getattr(boxes, 'tensor', boxes).float()  # mmdet HorizontalBoxes
        shape = tuple(sample.metainfo['batch_input_shape'])
        rows = []
        for level in levels:
            feat_T = feats_T[level]
            name, stride = level_name(shape[0], feat_T.shape[2])
            row = dict(level=level, name=name, stride=stride)
            if distill:
                loss = model.distiller.distill_losses[losses[level]]
                feat_S = connected(model.distiller, losses[level], feats_S[level])
                shown_S = feat_S if raw_student or loss.align is None else loss.align(feat_S)
                terms = loss(feat_S, feat_T, gt_bboxes=[boxes], batch_input_shape=shape)
                row.update(maps=fgd_maps(feat_T[0], boxes, shape, loss.temp, shown_S[0]),
                           loss=losses[level], temp=loss.temp,
                           terms={k: float(v) for k, v in terms.items()},
                           student_channels=(feat_S.shape[1], shown_S.shape[1]))
            else:
                row.update(maps=fgd_maps(feat_T[0], boxes, shape, temp), temp=temp)
            rows.append(row)
    image = batch['inputs'][0].permute(1, 2, 0).numpy()[..., ::-1]  # BGR (mmcv) → RGB
    return dict(image=np.ascontiguousarray(image), boxes=boxes, labels=sample.gt_instances.labels,
                batch_input_shape=shape, img_path=sample.metainfo.get('img_path', ''),
                levels=rows)


def _overlay(fig, ax, result, values, cmap: str, vmin: float, vmax: float,
             hide_zero: bool, colorbar: bool = True, log: bool = False) -> None:
    """A map drawn over the grey image, cell for cell on the padded input, with boxes."""
    image = result['image']
    H_in, W_in = result['batch_input_shape']
    ax.imshow(image.mean(axis=2), cmap='gray', extent=(0, image.shape[1], image.shape[0], 0))
    values = values.cpu().numpy()
    if hide_zero:  # the image shows through where the mask is 0
        values = np.ma.masked_equal(values, 0)
    # Log scale: three decades below the maximum (softmax tails go much lower).
    norm = LogNorm(max(vmin, vmax * 1e-3), vmax) if log else Normalize(vmin, vmax)
    shown = ax.imshow(values, cmap=cmap, norm=norm, alpha=0.7, interpolation='nearest',
                      extent=(0, W_in, H_in, 0))
    _boxes(ax, result, color='white', labels=False)
    ax.set_xlim(0, W_in)
    ax.set_ylim(H_in, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
        bar.ax.tick_params(labelsize=7)
        if not log:  # plain numbers: an offset label (1e-2) would sit on the column title
            bar.ax.yaxis.set_major_formatter(FormatStrFormatter('%.2g'))


def _boxes(ax, result, color: str, labels: bool, classes: Tuple[str, ...] = ()) -> None:
    for box, label in zip(result['boxes'].tolist(), result['labels'].tolist()):
        x1, y1, x2, y2 = box
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                               linewidth=0.8))
        if labels:
            name = classes[label] if label < len(classes) else str(label)
            ax.text(x1, y1, name, color='black', fontsize=7, va='bottom',
                    bbox=dict(facecolor=color, edgecolor='none', pad=0.5))


def draw(result: Dict[str, object], path: str, title: str, classes: Tuple[str, ...] = (),
         dpi: int = 90, log_attention: bool = False, palette: bool = False) -> None:
    """One row per level: image, masks, attention maps over the image, channel bars."""
    rows = result['levels']
    student = rows[0]['maps'].spatial_S is not None
    scale = ', log' if log_attention else ''
    heads = ['image, GT boxes', 'foreground mask\n1 / box area (cells)',
             'background mask\n1 / N_bg', ('teacher ' if student else '') +
             f'spatial attention S\n(mean 1{scale})']
    if student:
        channels = rows[0]['student_channels']
        aligned = '' if channels[0] == channels[1] else \
            f', after the {channels[0]}→{channels[1]} align'
        heads.append(f'student spatial attention S\n(mean 1{scale}{aligned})')
    heads.append('channel attention A')
    fig, axes = plt.subplots(len(rows), len(heads), squeeze=False, layout='constrained',
                             figsize=(2.05 * len(heads), 2.05 * len(rows) + 0.5))
    for col, head in enumerate(heads):
        axes[0, col].set_title(head, fontsize=8)
    H_in, W_in = result['batch_input_shape']
    for r, row in enumerate(rows):
        maps = row['maps']
        ax = axes[r, 0]
        ax.imshow(result['image'])
        _boxes(ax, result, color='lime', labels=True, classes=classes)
        ax.set_xlim(0, W_in)
        ax.set_ylim(H_in, 0)
        ax.set_xticks([])
        ax.set_yticks([])
        H, W = maps.mask_fg.shape
        ax.set_ylabel(f'{row["name"]}  {H}×{W}\nstride {row["stride"]}', fontsize=8)
        _overlay(fig, axes[r, 1], result, maps.mask_fg, 'magma', 0.0,
                 max(float(maps.mask_fg.max()), 1e-12), hide_zero=True)
        _overlay(fig, axes[r, 2], result, maps.mask_bg, 'magma', 0.0,
                 max(float(maps.mask_bg.max()), 1e-12), hide_zero=True)
        # Teacher and student share one colour scale, so their maps compare.
        spatial = [maps.spatial_T] + ([maps.spatial_S] if student else [])
        vmax = max(float(s.max()) for s in spatial)
        for k, values in enumerate(spatial):
            _overlay(fig, axes[r, 3 + k], result, values, 'viridis', 0.0, vmax,
                     hide_zero=False, colorbar=k == len(spatial) - 1, log=log_attention)
        _channel_curves(axes[r, -1], maps, row)
    fig.suptitle(title, fontsize=9)
    if palette:
        from PIL import Image  # matplotlib's own dependency
        buffer = io.BytesIO()
        fig.savefig(buffer, dpi=dpi, format='png')
        image = Image.open(buffer).convert('RGB')
        image.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    else:
        fig.savefig(path, dpi=dpi)
    plt.close(fig)


def _channel_curves(ax, maps, row) -> None:
    """Teacher channel attention sorted high to low (log scale: with FGD's T = 0.5 a few
    channels take most of it); the student's at the same channels, or sorted on its own
    when its channels are not the teacher's (``--raw-student``)."""
    order = maps.channel_T.argsort(descending=True)
    x = np.arange(len(order))
    ax.semilogy(x, maps.channel_T[order].cpu().numpy(), color='tab:blue', linewidth=1.2,
                label='teacher')
    if maps.channel_S is not None and len(maps.channel_S) == len(order):
        ax.semilogy(x, maps.channel_S[order].cpu().numpy(), '.', color='tab:orange',
                    markersize=2.5, label='student')
    elif maps.channel_S is not None:
        own = maps.channel_S.sort(descending=True).values.cpu().numpy()
        ax.semilogy(np.arange(len(own)), own, '--', color='tab:orange', linewidth=1.2,
                    label='student, own order')
    if maps.channel_S is not None:
        ax.legend(fontsize=6, loc='upper right', handlelength=1, borderpad=0.3)
    ax.axhline(1.0, color='grey', linewidth=0.6, linestyle='--')  # the mean of A
    low = max(float(ax.get_ylim()[0]), 1e-4)  # softmax tails reach 1e-30
    ax.set_ylim(bottom=low)
    ax.tick_params(labelsize=7)
    ax.set_xlim(-0.5, len(order) - 0.5)
    label = f'{len(order)} channels, by teacher A'
    if 'terms' in row:  # the loss's weighted terms on this image
        t = row['terms']
        label += (f'\nfg {t["fg"]:.1e}  bg {t["bg"]:.1e}\nmask {t["mask"]:.1e}  '
                  f'global {t["global"]:.1e}')
    ax.set_xlabel(label, fontsize=7)


def weights_note(cfg: Config, args: argparse.Namespace) -> str:
    """Where the drawn weights come from, for the figure's title."""
    name = osp.basename
    if args.checkpoint is not None:
        return f'weights: {name(args.checkpoint)}'
    if not is_distillation(cfg):
        return 'random init'
    teacher = cfg.model.get('teacher_ckpt')
    student = args.student_ckpt
    return (f'teacher: {name(teacher) if teacher else "random init"}, student: '
            f'{name(student) if student else "random init"}')


def output_path(out_dir: str, img_path: str, index: int, taken: List[str]) -> str:
    """``<image name>_fgd.png``; the dataset index is added if two images share a name."""
    stem = osp.splitext(osp.basename(img_path))[0] or f'image{index}'
    path = osp.join(out_dir, f'{stem}_fgd.png')
    if path in taken:
        path = osp.join(out_dir, f'{stem}_{index}_fgd.png')
    return path


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import kd_mmdet  # noqa: F401  registers kd_mmdet, applies kd_mmdet.compat
    from mmengine.utils import ProgressBar

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.temp is not None and is_distillation(cfg):
        raise SystemExit('fgd_masks: --temp is for plain detector configs; the distillation '
                         'config\'s FGDLoss sets the temperature')
    temp = 0.5 if args.temp is None else args.temp
    note = weights_note(cfg, args)
    model = build_model(cfg, args.checkpoint, args.student_ckpt)
    dataloader = build_dataloader(cfg, args.split, args.indices or args.num_images)
    classes = tuple(dataloader.dataset.metainfo.get('classes', ()))
    indices = args.indices or list(range(len(dataloader.dataset)))
    os.makedirs(args.out_dir, exist_ok=True)
    written: List[str] = []
    bar = ProgressBar(len(dataloader.dataset), file=sys.stdout)
    for index, batch in zip(indices, dataloader):
        result = image_maps(model, batch, args.levels, temp, args.raw_student)
        path = output_path(args.out_dir, result['img_path'], index, written)
        title = (f'FGD maps of {osp.basename(result["img_path"])} ({args.split} #{index}), '
                 f'{osp.basename(args.config)}\n{note}; T = {result["levels"][0]["temp"]}')
        draw(result, path, title, classes, args.dpi, args.log_attention, args.palette)
        written.append(path)
        bar.update()
    sys.stdout.write('\n')
    print('\n'.join(written))
    return 0


if __name__ == '__main__':
    sys.exit(main())
