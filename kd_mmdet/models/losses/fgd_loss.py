"""FGD — Yang, Li, Jiang, Gong, Yuan, Zhao, Yuan, "Focal and Global Knowledge Distillation
for Detectors", CVPR 2022. https://arxiv.org/abs/2111.11837

Focal distillation splits a feature map into foreground (inside ground-truth boxes) and
background, weights every position and channel by the teacher's spatial and channel
attention, and matches the student's attention maps to the teacher's; global distillation
matches the two maps after a GcBlock (global-context) transform. It is applied to each
FPN output; the ground-truth boxes come from the batch's data samples.

Two defects of the official code's first release (``yzd-v/FGD``,
``mmdet/distillation/losses/fgd.py``) are fixed here: its box mask is indexed
``[x-range, y-range]`` (transposed; rows must be indexed by y) and boxes are mapped with
the un-padded ``img_shape`` onto a feature map that covers the padded batch (we use the
padded ``batch_input_shape``). Upstream fixed the transposition in commit c22b81d
(2022-01-04); ``FGDLoss(mask_mode='official')`` reproduces the code *before* that commit
(both defects, :func:`fgd_masks_official`). The repository does not say which version
trained the published numbers; the paper's first version (arXiv 2111.11837, November
2021) predates the fix.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive
from kd_mmdet.registry import MODELS


def fgd_masks(gt_bboxes: Sequence[Tensor], batch_input_shape: Tuple[int, int],
              feat_shape: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    r"""Foreground (scale) and background masks of FGD on one feature level.

    Each box :math:`(x_1, y_1, x_2, y_2)`, clipped to the padded input, is mapped to the
    :math:`H \times W` grid by :math:`x \cdot W / W_{in}` and :math:`y \cdot H / H_{in}`;
    its edges are floored (left, top) and ceiled (right, bottom) with inclusive ends, as
    in the official code, so it covers rows :math:`t..b` and columns :math:`l..r` and
    gets the scale value

    .. math::
        M_{ij} = \max_{k:\ (i, j) \in \text{box}_k} \frac{1}{(b_k - t_k + 1)(r_k - l_k + 1)},
        \qquad M^{bg}_{ij} = \frac{[M_{ij} = 0]}{N_{bg}},\quad
        N_{bg} = \sum_{ij} [M_{ij} = 0].

    Rows are indexed by y and columns by x. A right/bottom end that falls on the grid's
    far edge (column :math:`W` or row :math:`H`) lies outside the map and is dropped, as
    the official slicing does; the scale keeps its value. A zero-area box still covers at
    least one row and column. A box entirely outside the padded input, or with
    :math:`x_2 < x_1` or :math:`y_2 < y_1`, covers nothing. An image without background
    (:math:`N_{bg} = 0`) gets an all-zero background mask; one without boxes gets
    :math:`M^{bg} = 1 / (HW)` everywhere.

    Args:
        gt_bboxes: one (K_i, 4) tensor of xyxy boxes per image, in pixels of the padded
            network input (mmdet 3: ``data_sample.gt_instances.bboxes``).
        batch_input_shape: (H_in, W_in) of the padded batch tensor (mmdet 3:
            ``data_sample.batch_input_shape``).
        feat_shape: (H, W) of the feature map.

    Returns:
        ``(mask_fg, mask_bg)``, each of shape (N, H, W), on the boxes' device, float32.
    """
    H, W = int(feat_shape[0]), int(feat_shape[1])
    H_in, W_in = float(batch_input_shape[0]), float(batch_input_shape[1])
    masks_fg = []
    for boxes in gt_bboxes:
        # float64 so that edges landing on grid lines floor/ceil exactly.
        boxes = boxes.detach().reshape(-1, 4).to(torch.float64)
        x1, y1, x2, y2 = boxes.unbind(dim=1)
        valid = (x2 >= x1) & (y2 >= y1) & (x2 >= 0) & (y2 >= 0) & (x1 <= W_in) & (
            y1 <= H_in)
        x1, x2 = x1.clamp(0, W_in) / W_in * W, x2.clamp(0, W_in) / W_in * W
        y1, y2 = y1.clamp(0, H_in) / H_in * H, y2.clamp(0, H_in) / H_in * H
        left, right = x1.floor(), x2.ceil()
        top, bottom = y1.floor(), y2.ceil()
        scale = 1.0 / ((bottom - top + 1) * (right - left + 1))
        rows = torch.arange(H, dtype=torch.float64, device=boxes.device)
        cols = torch.arange(W, dtype=torch.float64, device=boxes.device)
        in_rows = (rows >= top[:, None]) & (rows <= bottom[:, None])  # (K, H)
        in_cols = (cols >= left[:, None]) & (cols <= right[:, None])  # (K, W)
        inside = in_rows[:, :, None] & in_cols[:, None, :] & valid[:, None, None]
        # where, not a product: an inverted box one cell off has scale 1/0 = inf, and
        # inf * 0 would be NaN.
        per_box = torch.where(inside, scale[:, None, None], 0.0)  # (K, H, W)
        # A zero map first: max over overlapping boxes, and all-zero without boxes.
        zero = per_box.new_zeros(1, H, W)
        masks_fg.append(torch.cat([zero, per_box]).amax(dim=0))
    mask_fg = torch.stack(masks_fg).float()
    mask_bg = (mask_fg == 0).float()
    mask_bg = mask_bg / mask_bg.sum(dim=(1, 2), keepdim=True).clamp(min=1)
    return mask_fg, mask_bg


FGD_MASK_MODES = ('paper', 'official')


def _slice_range(start: Tensor, stop: Tensor, length: int) -> Tuple[Tensor, Tensor]:
    """Python's ``seq[start:stop]`` bounds on a sequence of ``length``, per element:
    a negative index counts from the end, then both are clamped to [0, length]."""
    start = torch.where(start < 0, start + length, start).clamp(0, length)
    stop = torch.where(stop < 0, stop + length, stop).clamp(0, length)
    return start, stop


def fgd_masks_official(gt_bboxes: Sequence[Tensor], img_shapes: Sequence[Tuple[int, int]],
                       feat_shape: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    r"""FGD's foreground and background masks exactly as the official code builds them.

    ``yzd-v/FGD``, ``mmdet/distillation/losses/fgd.py`` (``FeatureLoss.forward``), on an
    :math:`H \times W` map of the padded batch:

    - box x-coordinates are divided by the image's *un-padded* width ``img_shape[1]`` and
      multiplied by W, y-coordinates by ``img_shape[0]`` and H (no clipping);
    - edges are floored (x1, y1) and ceiled (x2, y2) to integers
      :math:`w_{min}, w_{max}, h_{min}, h_{max}`, the scale value is
      :math:`1 / (h_{max} + 1 - h_{min}) / (w_{max} + 1 - w_{min})`;
    - the box is written as ``mask[wmin:wmax+1, hmin:hmax+1]`` (max with what is there):
      the **x-range indexes the rows** and the y-range the columns — transposed — with
      Python's slicing (ends past the map are cut, negative indices count from the end);
    - background: 1 where the foreground is 0, divided by its sum when that is non-zero.

    On a square map with boxes symmetric about the diagonal and an un-padded batch this
    equals :func:`fgd_masks`; elsewhere it does not. Computed in the boxes' floating dtype
    (float32 as in the official code) in the official order of operations.

    Args:
        gt_bboxes: one (K_i, 4) tensor of xyxy boxes per image, in input pixels.
        img_shapes: per image (h, w) of the resized, un-padded image (mmdet 3:
            ``data_sample.img_shape``).
        feat_shape: (H, W) of the feature map.

    Returns:
        ``(mask_fg, mask_bg)``, each of shape (N, H, W), float32.
    """
    H, W = int(feat_shape[0]), int(feat_shape[1])
    masks_fg = []
    for boxes, (img_h, img_w) in zip(gt_bboxes, img_shapes):
        boxes = boxes.detach().reshape(-1, 4)
        if not boxes.is_floating_point():
            boxes = boxes.float()
        x1 = boxes[:, 0] / img_w * W
        x2 = boxes[:, 2] / img_w * W
        y1 = boxes[:, 1] / img_h * H
        y2 = boxes[:, 3] / img_h * H
        wmin, wmax = x1.floor().int(), x2.ceil().int()
        hmin, hmax = y1.floor().int(), y2.ceil().int()
        scale = 1.0 / (hmax + 1 - hmin) / (wmax + 1 - wmin)  # float32, as the original
        # Transposed: rows from the x-range, columns from the y-range.
        r0, r1 = _slice_range(wmin.long(), wmax.long() + 1, H)
        c0, c1 = _slice_range(hmin.long(), hmax.long() + 1, W)
        rows = torch.arange(H, device=boxes.device)
        cols = torch.arange(W, device=boxes.device)
        in_rows = (rows >= r0[:, None]) & (rows < r1[:, None])  # (K, H)
        in_cols = (cols >= c0[:, None]) & (cols < c1[:, None])  # (K, W)
        inside = in_rows[:, :, None] & in_cols[:, None, :]
        per_box = torch.where(inside, scale.float()[:, None, None], 0.0)
        masks_fg.append(torch.cat([per_box.new_zeros(1, H, W), per_box]).amax(dim=0))
    mask_fg = torch.stack(masks_fg).float()
    mask_bg = (mask_fg <= 0).float()
    return mask_fg, mask_bg / mask_bg.sum(dim=(1, 2), keepdim=True).clamp(min=1)


def spatial_channel_attention(feat: Tensor, temp: float) -> Tuple[Tensor, Tensor]:
    r"""FGD's spatial and channel attention of a feature map.

    .. math::
        S = HW \cdot \operatorname{softmax}_{hw}\Big(\frac{1}{T C}\sum_c |F_{c,h,w}|\Big),
        \qquad
        A = C \cdot \operatorname{softmax}_{c}\Big(\frac{1}{T HW}\sum_{h,w} |F_{c,h,w}|\Big)

    Both have mean 1 over their positions / channels.

    Args:
        feat: feature map, shape (N, C, H, W).
        temp: temperature :math:`T` > 0 (official: 0.5; 0.8 for FCOS).

    Returns:
        ``(S, A)`` of shapes (N, H, W) and (N, C), in float32.
    """
    N, C, H, W = feat.shape
    value = feat.float().abs()
    spatial = value.mean(dim=1).reshape(N, -1) / temp
    S = (H * W * F.softmax(spatial, dim=1)).reshape(N, H, W)
    A = C * F.softmax(value.mean(dim=(2, 3)) / temp, dim=1)
    return S, A


def fgd_focal_losses(preds_S: Tensor, preds_T: Tensor, mask_fg: Tensor, mask_bg: Tensor,
                     temp: float, normalize_by_hw: bool = False
                     ) -> Tuple[Tensor, Tensor, Tensor]:
    r"""The focal terms of FGD: foreground, background and attention-mask losses.

    With :math:`S^t, A^t` the teacher's attention and :math:`S^s, A^s` the student's
    (:func:`spatial_channel_attention`),

    .. math::
        \mathcal{L}_{fg} = \frac{1}{N}\sum_{n,c,h,w} M_{nhw} S^t_{nhw} A^t_{nc}
            (F^s_{nchw} - F^t_{nchw})^2, \qquad
        \mathcal{L}_{bg} = \text{idem with } M^{bg},

        \mathcal{L}_{mask} = \frac{1}{N}\sum_{n,c}|A^s_{nc} - A^t_{nc}|
            + \frac{1}{N}\sum_{n,h,w}|S^s_{nhw} - S^t_{nhw}|.

    The official code multiplies each of :math:`F^s, F^t` by
    :math:`\sqrt{M S^t A^t}` before a summed squared error; that is the same number and
    the same gradient. Both feature terms use the *teacher's* attention for the student
    too.

    With ``normalize_by_hw`` the spatial half of :math:`\mathcal{L}_{mask}` (a sum over
    the :math:`HW` positions) is divided by :math:`HW`; the channel half and
    :math:`\mathcal{L}_{fg}, \mathcal{L}_{bg}` are not (see :class:`FGDLoss`).

    Args:
        preds_S: student map (aligned to the teacher's channels), shape (N, C, H, W).
        preds_T: teacher map, shape (N, C, H, W); no gradient flows into it.
        mask_fg, mask_bg: masks of shape (N, H, W) from :func:`fgd_masks`.
        temp: attention temperature :math:`T`.
        normalize_by_hw: average the spatial attention error over positions instead of
            summing it (not in the paper or official code).

    Returns:
        ``(fg, bg, mask)`` scalars, unweighted, each divided by the batch size N.
    """
    N = preds_S.shape[0]
    s, t = preds_S.float(), preds_T.detach().float()
    S_s, A_s = spatial_channel_attention(s, temp)
    S_t, A_t = spatial_channel_attention(t, temp)
    weight = S_t[:, None] * A_t[:, :, None, None]  # (N, C, H, W)
    sq_err = weight * (s - t)**2
    fg = torch.sum(sq_err * mask_fg[:, None]) / N
    bg = torch.sum(sq_err * mask_bg[:, None]) / N
    spatial = torch.sum(torch.abs(S_s - S_t))
    if normalize_by_hw:
        spatial = spatial / (S_s.shape[1] * S_s.shape[2])
    mask = (torch.sum(torch.abs(A_s - A_t)) + spatial) / N
    return fg, bg, mask


class GcBlock(nn.Module):
    r"""Global-context block of GCNet (Cao et al., 2019) as used by FGD's global loss.

    .. math::
        \text{context} = \sum_{p} \operatorname{softmax}_p(W_k F)_p \, F_{:, p},
        \qquad
        R(F) = F + W_{v2}\,\mathrm{ReLU}(\mathrm{LN}(W_{v1}\,\text{context}))

    with :math:`W_k` a 1x1 conv C→1, :math:`W_{v1}` C→C/2, :math:`W_{v2}` C/2→C. The last
    conv is zero-initialised, so the block starts as the identity.

    Args:
        channels: C, >= 2.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_mask = nn.Conv2d(channels, 1, kernel_size=1)
        self.channel_add = nn.Sequential(
            nn.Conv2d(channels, channels // 2, kernel_size=1),
            nn.LayerNorm([channels // 2, 1, 1]),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // 2, channels, kernel_size=1))
        # Official init: kaiming (fan_in) context conv, zero last transform conv.
        nn.init.kaiming_normal_(self.conv_mask.weight, mode='fan_in', nonlinearity='relu')
        nn.init.zeros_(self.conv_mask.bias)
        nn.init.zeros_(self.channel_add[-1].weight)
        nn.init.zeros_(self.channel_add[-1].bias)

    def forward(self, feat: Tensor) -> Tensor:
        """Args: feat: (N, C, H, W). Returns: (N, C, H, W)."""
        N, C, H, W = feat.shape
        attn = F.softmax(self.conv_mask(feat).reshape(N, 1, H * W), dim=2)  # (N, 1, HW)
        context = torch.bmm(feat.reshape(N, C, H * W), attn.transpose(1, 2))  # (N, C, 1)
        return feat + self.channel_add(context.reshape(N, C, 1, 1))


@MODELS.register_module()
class FGDLoss(nn.Module):
    r"""Focal and global distillation on one feature level (for ``ConfigurableDistiller``).

    .. math::
        \mathcal{L} = w\,(\alpha \mathcal{L}_{fg} + \beta \mathcal{L}_{bg}
            + \gamma \mathcal{L}_{mask} + \lambda \mathcal{L}_{global}),
        \qquad
        \mathcal{L}_{global} = \frac{1}{N}\sum (R_s(F^s) - R_t(F^t))^2

    with :math:`\mathcal{L}_{fg}, \mathcal{L}_{bg}, \mathcal{L}_{mask}` as in
    :func:`fgd_focal_losses` and :math:`R_s, R_t` two learnable :class:`GcBlock` s (the
    teacher's block is trained too, the teacher's feature is not). The loss owns learnable
    parameters (align conv, GcBlocks): the distiller trains them with the student.

    Defaults are the official RetinaNet / GFL R101→R50 settings (``neck.fpn_convs.i``, five
    levels); Faster R-CNN: α=5e-5, β=2.5e-5, γ=5e-5, λ=5e-7; FCOS: T=0.8, α=1.6e-3,
    β=8e-4, γ=8e-4, λ=8e-6. The official runs clip gradients at max_norm=35.

    Per-level normalisation (``normalize_by_hw``, our option). At a fixed per-position
    error, two terms grow with the number of positions H·W of the level (P3 has 256x
    the positions of P7), one reason why P3 dominates the raw sum over levels:
    :math:`\mathcal{L}_{global}` sums squared errors over all C·H·W elements, and the
    spatial half :math:`\sum_{hw}|S^s - S^t|` of :math:`\mathcal{L}_{mask}` sums H·W
    differences of maps whose mean is 1. The option divides exactly those by H·W, making
    them per-position averages. It leaves alone the channel half of the mask term (C
    differences, none per position) and :math:`\mathcal{L}_{fg}, \mathcal{L}_{bg}`:
    their masks are normalised already — :math:`1/(h w)` over a box sums to about 1 per
    box and :math:`1/N_{bg}` sums to 1 over the background — so they are weighted means
    over positions, and dividing them by H·W again would make the coarse levels
    dominate instead. The official α, β, γ, λ were tuned without the option; with it, γ
    and λ act on much smaller values.

    In a config, one loss per FPN level; the boxes come from a recorder on the function
    mmdet's dense heads call to unpack the ground truth (its first input is the batch's
    data samples, which carry ``batch_input_shape``). ``kd_mmdet.ConfigurableDistiller``
    logs each returned term as ``<loss name>_<term>``; mmrazor's own distiller does not
    accept dict-valued losses::

        levels = range(5)  # P3..P7 (neck outputs = official neck.fpn_convs.i)
        distiller=dict(
            type='kd_mmdet.ConfigurableDistiller',
            student_recorders=dict(
                fpn=dict(type='ModuleOutputs', source='neck'),
                gt=dict(type='FunctionInputs', source='mmdet.models.dense_heads.'
                        'base_dense_head.unpack_gt_instances')),
            teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
            distill_losses={f'loss_fgd_fpn{i}': dict(
                type='kd_mmdet.FGDLoss', student_channels=256, teacher_channels=256)
                for i in levels},
            loss_forward_mappings={f'loss_fgd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i),
                data_samples=dict(from_student=True, recorder='gt', data_idx=0))
                for i in levels})

    Args:
        student_channels: channels of the student map; a 1x1 align conv maps them to
            ``teacher_channels`` when they differ.
        teacher_channels: channels of the teacher map, >= 2.
        temp: attention temperature T, > 0.
        alpha_fgd: weight α of the foreground term, >= 0.
        beta_fgd: weight β of the background term, >= 0.
        gamma_fgd: weight γ of the attention-mask term, >= 0.
        lambda_fgd: weight λ of the global term, >= 0.
        normalize_by_hw: divide by the level's H·W the terms that are sums over its
            positions — the global term and the spatial-attention half of the mask term —
            so that P3 does not dominate the sum over levels (see "Per-level
            normalisation" above). The paper and official code do not (False).
        loss_weight: overall multiplier w, >= 0.
        mask_mode: how the foreground/background masks are built. ``'paper'`` (default):
            rows indexed by y, boxes mapped with the padded ``batch_input_shape``
            (:func:`fgd_masks`). ``'official'``: as the official code that produced the
            published numbers — transposed ``[x-range, y-range]`` indexing and boxes mapped
            with each image's un-padded ``img_shape`` (:func:`fgd_masks_official`); needs
            ``data_samples`` (or ``img_shapes``).
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 temp: float = 0.5,
                 alpha_fgd: float = 1e-3,
                 beta_fgd: float = 5e-4,
                 gamma_fgd: float = 5e-4,
                 lambda_fgd: float = 5e-6,
                 normalize_by_hw: bool = False,
                 loss_weight: float = 1.0,
                 mask_mode: str = 'paper') -> None:
        super().__init__()
        if mask_mode not in FGD_MASK_MODES:
            raise ValueError(f"FGDLoss: mask_mode must be one of {FGD_MASK_MODES} ('paper' = "
                             "rows by y on the padded input, 'official' = the official "
                             "code's transposed indexing and img_shape mapping), got "
                             f'{mask_mode!r}')
        check_positive(self, 'student_channels', student_channels)
        check_positive(self, 'teacher_channels', teacher_channels)
        if teacher_channels < 2:
            raise ValueError(f'FGDLoss: teacher_channels must be >= 2 (the GcBlock halves '
                             f'it), got {teacher_channels!r}')
        check_positive(self, 'temp', temp)
        for arg, value in [('alpha_fgd', alpha_fgd), ('beta_fgd', beta_fgd),
                           ('gamma_fgd', gamma_fgd), ('lambda_fgd', lambda_fgd),
                           ('loss_weight', loss_weight)]:
            check_positive(self, arg, value, allow_zero=True)
        self.student_channels = int(student_channels)
        self.teacher_channels = int(teacher_channels)
        self.temp = float(temp)
        self.alpha_fgd = float(alpha_fgd)
        self.beta_fgd = float(beta_fgd)
        self.gamma_fgd = float(gamma_fgd)
        self.lambda_fgd = float(lambda_fgd)
        self.normalize_by_hw = bool(normalize_by_hw)
        self.loss_weight = float(loss_weight)
        self.mask_mode = mask_mode
        self.align = (nn.Conv2d(student_channels, teacher_channels, kernel_size=1)
                      if student_channels != teacher_channels else None)
        self.gc_student = GcBlock(teacher_channels)
        self.gc_teacher = GcBlock(teacher_channels)

    def forward(self,
                preds_S: Tensor,
                preds_T: Tensor,
                gt_bboxes: Optional[Sequence[Tensor]] = None,
                batch_input_shape: Optional[Tuple[int, int]] = None,
                data_samples: Optional[Sequence] = None,
                img_shapes: Optional[Sequence[Tuple[int, int]]] = None
                ) -> Dict[str, Tensor]:
        """Compute the four weighted FGD terms of one level.

        Pass either ``gt_bboxes`` and ``batch_input_shape`` or mmdet 3 ``data_samples``
        (their ``gt_instances.bboxes`` and ``batch_input_shape`` are used).

        Args:
            preds_S: student map, shape (N, C_s, H, W), C_s = ``student_channels``.
            preds_T: teacher map, shape (N, C_t, H, W), C_t = ``teacher_channels``.
            gt_bboxes: N tensors (K_i, 4) of xyxy boxes in padded-input pixels.
            batch_input_shape: (H_in, W_in) of the padded batch.
            data_samples: N ``DetDataSample`` s, instead of the two arguments above.
            img_shapes: N un-padded (h, w) image shapes, for ``mask_mode='official'`` when
                no ``data_samples`` are given (their ``img_shape`` is used otherwise).

        Returns:
            dict with keys ``'fg', 'bg', 'mask', 'global'``: scalars already multiplied
            by α, β, γ, λ and ``loss_weight`` (sum them for the level's loss).
        """
        if data_samples is not None:
            gt_bboxes, batch_input_shape = self._from_data_samples(data_samples)
            if self.mask_mode == 'official':
                img_shapes = [tuple(s.metainfo['img_shape'][:2]) for s in data_samples]
        if self.mask_mode == 'official' and img_shapes is None:
            raise ValueError("FGDLoss: mask_mode='official' maps boxes with each image's "
                             'un-padded img_shape: pass data_samples or img_shapes')
        if gt_bboxes is None or batch_input_shape is None:
            raise ValueError('FGDLoss: pass gt_bboxes and batch_input_shape, or '
                             'data_samples')
        gt_bboxes = [getattr(b, 'tensor', b) for b in gt_bboxes]  # mmdet HorizontalBoxes
        self._check_inputs(preds_S, preds_T, gt_bboxes, batch_input_shape, img_shapes)
        # fp32 throughout: the align conv and GcBlocks hold fp32 weights, which refuse
        # fp16/bf16 maps outside autocast, and the squared errors of maps near ±1e4
        # overflow fp16.
        preds_S, preds_T = preds_S.float(), preds_T.detach().float()
        if self.align is not None:
            preds_S = self.align(preds_S)
        N, _, H, W = preds_T.shape
        if self.mask_mode == 'official':
            mask_fg, mask_bg = fgd_masks_official(gt_bboxes, img_shapes, (H, W))
        else:
            mask_fg, mask_bg = fgd_masks(gt_bboxes, batch_input_shape, (H, W))
        mask_fg, mask_bg = mask_fg.to(preds_T.device), mask_bg.to(preds_T.device)
        fg, bg, mask = fgd_focal_losses(preds_S, preds_T, mask_fg, mask_bg, self.temp,
                                        self.normalize_by_hw)
        glob = torch.sum((self.gc_student(preds_S) - self.gc_teacher(preds_T))**2) / N
        if self.normalize_by_hw:  # a sum over C·H·W elements: average over positions
            glob = glob / (H * W)
        weighted = {'fg': self.alpha_fgd * fg, 'bg': self.beta_fgd * bg,
                    'mask': self.gamma_fgd * mask, 'global': self.lambda_fgd * glob}
        return {name: self.loss_weight * term for name, term in weighted.items()}

    @staticmethod
    def _from_data_samples(data_samples: Sequence) -> Tuple[list, Tuple[int, int]]:
        """GT boxes and padded input shape of mmdet 3 ``DetDataSample`` s."""
        boxes = [sample.gt_instances.bboxes for sample in data_samples]
        return boxes, tuple(data_samples[0].metainfo['batch_input_shape'])

    def _check_inputs(self, preds_S: Tensor, preds_T: Tensor, gt_bboxes: Sequence[Tensor],
                      batch_input_shape: Tuple[int, int],
                      img_shapes: Optional[Sequence[Tuple[int, int]]] = None) -> None:
        if preds_S.dim() != 4 or preds_T.dim() != 4:
            raise ValueError(f'FGDLoss: expected 4-d maps, got student '
                             f'{tuple(preds_S.shape)} and teacher {tuple(preds_T.shape)}')
        (Ns, Cs, Hs, Ws), (Nt, Ct, Ht, Wt) = preds_S.shape, preds_T.shape
        if Cs != self.student_channels or Ct != self.teacher_channels:
            raise ValueError(
                f'FGDLoss: student {tuple(preds_S.shape)} / teacher '
                f'{tuple(preds_T.shape)} do not have student_channels='
                f'{self.student_channels} / teacher_channels={self.teacher_channels}')
        if (Ns, Hs, Ws) != (Nt, Ht, Wt):
            raise ValueError(f'FGDLoss: student {tuple(preds_S.shape)} vs teacher '
                             f'{tuple(preds_T.shape)} — batch and spatial sizes must match')
        if len(gt_bboxes) != Ns:
            raise ValueError(f'FGDLoss: {len(gt_bboxes)} gt_bboxes entries for a batch of '
                             f'{Ns} maps {tuple(preds_S.shape)}')
        for i, boxes in enumerate(gt_bboxes):
            if boxes.dim() != 2 or boxes.shape[1] != 4:
                raise ValueError(f'FGDLoss: gt_bboxes[{i}] must have shape (K, 4), got '
                                 f'{tuple(boxes.shape)}')
        if len(batch_input_shape) != 2 or min(batch_input_shape) <= 0:
            raise ValueError(f'FGDLoss: batch_input_shape must be (H_in, W_in) > 0, got '
                             f'{tuple(batch_input_shape)}')
        if img_shapes is not None:
            shapes = [tuple(s) for s in img_shapes]
            if len(shapes) != Ns or any(len(s) != 2 or min(s) <= 0 for s in shapes):
                raise ValueError(f'FGDLoss: img_shapes must be {Ns} (h, w) > 0 pairs for a '
                                 f'batch of maps {tuple(preds_S.shape)}, got {shapes}')
