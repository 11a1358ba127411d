"""What FGD's focal loss sees on one image: its masks and attention maps, per FPN level.

FGD — Yang, Li, Jiang, Gong, Yuan, Zhao, Yuan, "Focal and Global Knowledge Distillation
for Detectors", CVPR 2022. https://arxiv.org/abs/2111.11837

The maps are made by the loss's own functions (:func:`~kd_mmdet.models.losses.fgd_loss.
fgd_masks`, :func:`~kd_mmdet.models.losses.fgd_loss.spatial_channel_attention`), so a
picture drawn from them (``tools/analysis/fgd_masks.py``) shows what the loss weights
with. This module also says which FPN level each FGD loss of a distiller reads, and
prepares a dataset pipeline so that ground-truth boxes are in the network input's pixels.
"""
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from torch import Tensor

from kd_mmdet.models.losses.fgd_loss import FGDLoss, fgd_masks, spatial_channel_attention


class FGDMaps(NamedTuple):
    """FGD's maps of one image on one feature level.

    ``spatial_*`` have mean 1 over the H·W positions and ``channel_*`` mean 1 over the
    channels (FGD's :math:`S` and :math:`A`); ``*_S`` are None without a student.
    """
    mask_fg: Tensor  # (H, W): max over the boxes covering a cell of 1 / (box cells)
    mask_bg: Tensor  # (H, W): 1 / N_bg outside every box, 0 inside
    spatial_T: Tensor  # (H, W)
    channel_T: Tensor  # (C_t, )
    spatial_S: Optional[Tensor] = None  # (H, W)
    channel_S: Optional[Tensor] = None  # (C_s, )


def fgd_maps(feat_T: Tensor, gt_bboxes: Tensor, batch_input_shape: Tuple[int, int],
             temp: float, feat_S: Optional[Tensor] = None) -> FGDMaps:
    """FGD's foreground/background masks and attention maps of one image on one level.

    Args:
        feat_T: the teacher's map of the image, shape (C_t, H, W) (for a plain detector,
            its own map).
        gt_bboxes: (K, 4) xyxy boxes in pixels of the padded network input.
        batch_input_shape: (H_in, W_in) of the padded input the map was computed on.
        temp: attention temperature T of FGD, > 0.
        feat_S: the student's map, shape (C_s, H, W), as the loss receives it (aligned to
            the teacher's channels, or not); optional.

    Returns:
        :class:`FGDMaps`, every tensor float32 on ``feat_T``'s device.
    """
    if feat_T.dim() != 3:
        raise ValueError(f'fgd_maps: feat_T must be one image\'s (C, H, W) map, got '
                         f'{tuple(feat_T.shape)}')
    if feat_S is not None and (feat_S.dim() != 3 or feat_S.shape[1:] != feat_T.shape[1:]):
        raise ValueError(f'fgd_maps: student {tuple(feat_S.shape)} vs teacher '
                         f'{tuple(feat_T.shape)} — spatial sizes must match')
    if gt_bboxes.dim() != 2 or gt_bboxes.shape[1] != 4:
        raise ValueError(f'fgd_maps: gt_bboxes must have shape (K, 4), got '
                         f'{tuple(gt_bboxes.shape)}')
    mask_fg, mask_bg = fgd_masks([gt_bboxes], batch_input_shape, feat_T.shape[1:])
    spatial_T, channel_T = spatial_channel_attention(feat_T[None].detach(), temp)
    maps = dict(mask_fg=mask_fg[0].to(feat_T.device), mask_bg=mask_bg[0].to(feat_T.device),
                spatial_T=spatial_T[0], channel_T=channel_T[0])
    if feat_S is not None:
        spatial_S, channel_S = spatial_channel_attention(feat_S[None].detach(), temp)
        maps.update(spatial_S=spatial_S[0], channel_S=channel_S[0])
    return FGDMaps(**maps)


def level_name(input_size: int, feat_size: int) -> Tuple[str, int]:
    """``('P3', 8)``: the FPN name and stride of a map of ``feat_size`` cells on a side
    of ``input_size`` pixels (the stride is rounded to a power of two, so padding to a
    multiple of 32 does not change it)."""
    log2 = round(math.log2(input_size / feat_size))
    return f'P{log2}', 2**log2


def fgd_levels(distiller) -> Dict[int, str]:
    """The FPN level each FGD loss of a distiller reads: ``{neck output index: loss name}``.

    Only losses whose student and teacher maps are the same output of the ``neck``
    (``ModuleOutputs`` recorders, equal ``data_idx``) can be matched to a level; an FGD
    loss on anything else raises, naming it.

    Args:
        distiller: an mmrazor / kd_mmdet ``ConfigurableDistiller`` (built, not necessarily
            prepared from the models).
    """
    levels: Dict[int, str] = {}
    for name, loss in distiller.distill_losses.items():
        if not isinstance(loss, FGDLoss):
            continue
        mapping = distiller.loss_forward_mappings[name]
        reads = []
        for arg, recorders in (('preds_S', distiller.student_recorders),
                               ('preds_T', distiller.teacher_recorders)):
            record = mapping[arg]
            recorder = recorders.get_recorder(record['recorder'])
            reads.append((type(recorder).__name__, recorder.source,
                          record.get('record_idx', 0), record.get('data_idx')))
        student, teacher = reads
        if student != teacher or student[:3] != ('ModuleOutputsRecorder', 'neck', 0) or \
                student[3] is None:
            raise ValueError(f'fgd_levels: {name} reads student {student[:2]} data_idx '
                             f'{student[3]} and teacher {teacher[:2]} data_idx {teacher[3]}; '
                             'only losses on one neck output (an FPN level) of both models '
                             'can be drawn')
        levels[student[3]] = name
    return dict(sorted(levels.items()))


def annotations_first(pipeline: Sequence[dict]) -> List[dict]:
    """A copy of a dataset pipeline that loads the boxes right after the image.

    mmdet's test pipelines load annotations after ``Resize`` (the boxes stay in the
    original image's pixels, as the evaluation wants); FGD's masks need them in the
    network input's pixels, as in training, where the geometric transforms move them
    along with the image. The ``LoadAnnotations`` step is moved (or, if absent, a
    box-only one is added) right after ``LoadImageFromFile``; the other steps keep
    their order.

    Args:
        pipeline: transform configs, e.g. ``cfg.val_dataloader.dataset.pipeline``.
    """
    def kind(step) -> str:
        return str(step.get('type', '')).rsplit('.', 1)[-1]

    steps = [dict(step) for step in pipeline]
    annotations = [step for step in steps if kind(step) == 'LoadAnnotations']
    steps = [step for step in steps if kind(step) != 'LoadAnnotations']
    loads = [i for i, step in enumerate(steps) if kind(step) == 'LoadImageFromFile']
    if not loads:
        raise ValueError(f'annotations_first: no LoadImageFromFile step in the pipeline '
                         f'{[kind(s) for s in pipeline]}')
    step = annotations[0] if annotations else dict(type='LoadAnnotations', with_bbox=True)
    steps.insert(loads[0] + 1, step)
    return steps
