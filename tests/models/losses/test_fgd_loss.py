import math

import pytest
import torch

from kd_mmdet.models.losses import (FGDLoss, fgd_masks, fgd_masks_official,
                                    spatial_channel_attention)

# A padded batch of 40x56 pixels on a 5x7 map (stride 8): non-square, so a transposed
# mask cannot fit.
INPUT_HW, FEAT_HW = (40, 56), (5, 7)
BOXES = [
    torch.tensor([[8., 4., 30., 20.],      # asymmetric: 3 rows x 4 columns of cells
                  [20., 10., 44., 26.],    # overlaps the first
                  [-16., 28., 12., 60.],   # partly outside (left and bottom)
                  [48., 0., 48., 8.]]),    # zero width
    torch.zeros(0, 4),                     # an image without boxes
]


def masks_reference(gt_bboxes, batch_input_shape, H, W):
    """Loop-by-loop FGD masks: official floor/ceil and scale, rows by y, clipped boxes."""
    H_in, W_in = batch_input_shape
    fgs, bgs = [], []
    for boxes in gt_bboxes:
        fg = [[0.0] * W for _ in range(H)]
        for x1, y1, x2, y2 in boxes.tolist():
            if x2 < x1 or y2 < y1 or x2 < 0 or y2 < 0 or x1 > W_in or y1 > H_in:
                continue
            x1, x2 = min(max(x1, 0), W_in), min(max(x2, 0), W_in)
            y1, y2 = min(max(y1, 0), H_in), min(max(y2, 0), H_in)
            left, right = math.floor(x1 / W_in * W), math.ceil(x2 / W_in * W)
            top, bottom = math.floor(y1 / H_in * H), math.ceil(y2 / H_in * H)
            value = 1.0 / ((bottom - top + 1) * (right - left + 1))
            for i in range(top, min(bottom, H - 1) + 1):       # rows <- y
                for j in range(left, min(right, W - 1) + 1):   # columns <- x
                    fg[i][j] = max(fg[i][j], value)
        n_bg = sum(1 for row in fg for v in row if v == 0)
        bg = [[(1.0 / n_bg if v == 0 else 0.0) for v in row] for row in fg]
        fgs.append(fg)
        bgs.append(bg)
    return torch.tensor(fgs), torch.tensor(bgs)


def attention_reference(f, temp):
    """Loop-by-loop spatial (H·W·softmax) and channel (C·softmax) attention."""
    N, C, H, W = f.shape
    S = [[[0.0] * W for _ in range(H)] for _ in range(N)]
    A = [[0.0] * C for _ in range(N)]
    for n in range(N):
        sp = [[sum(abs(float(f[n, c, i, j])) for c in range(C)) / C / temp
               for j in range(W)] for i in range(H)]
        z = sum(math.exp(v) for row in sp for v in row)
        for i in range(H):
            for j in range(W):
                S[n][i][j] = H * W * math.exp(sp[i][j]) / z
        ch = [sum(abs(float(v)) for v in f[n, c].flatten()) / (H * W) / temp
              for c in range(C)]
        z = sum(math.exp(v) for v in ch)
        for c in range(C):
            A[n][c] = C * math.exp(ch[c]) / z
    return S, A


def gc_reference(block, f):
    """Loop-by-loop GcBlock: softmax context pooling, conv-LN-ReLU-conv, residual add."""
    N, C, H, W = f.shape
    wk, bk = block.conv_mask.weight.reshape(C).tolist(), block.conv_mask.bias.item()
    conv1, ln, _, conv2 = block.channel_add
    w1, b1 = conv1.weight.reshape(C // 2, C).tolist(), conv1.bias.tolist()
    g, beta = ln.weight.reshape(-1).tolist(), ln.bias.reshape(-1).tolist()
    w2, b2 = conv2.weight.reshape(C, C // 2).tolist(), conv2.bias.tolist()
    out = f.clone().double()
    for n in range(N):
        pos = [(i, j) for i in range(H) for j in range(W)]
        logits = [sum(wk[c] * float(f[n, c, i, j]) for c in range(C)) + bk for i, j in pos]
        z = sum(math.exp(v) for v in logits)
        context = [sum(math.exp(lg) / z * float(f[n, c, i, j])
                       for lg, (i, j) in zip(logits, pos, strict=True)) for c in range(C)]
        u = [sum(w1[k][c] * context[c] for c in range(C)) + b1[k] for k in range(C // 2)]
        mean = sum(u) / len(u)
        var = sum((v - mean)**2 for v in u) / len(u)
        u = [max(0.0, (v - mean) / math.sqrt(var + ln.eps) * g[k] + beta[k])
             for k, v in enumerate(u)]
        for c in range(C):
            out[n, c] += sum(w2[c][k] * u[k] for k in range(C // 2)) + b2[c]
    return out


def fgd_reference(loss, s, t, gt_bboxes, batch_input_shape, masks=None):
    """Loop-by-loop FGD terms (Yang et al., CVPR 2022, eqs. 1-10; official sqrt form);
    ``masks`` replaces the paper masks (e.g. by the official code's)."""
    N, C, H, W = s.shape
    M_fg, M_bg = masks or masks_reference(gt_bboxes, batch_input_shape, H, W)
    S_s, A_s = attention_reference(s, loss.temp)
    S_t, A_t = attention_reference(t, loss.temp)
    fg = bg = mask = 0.0
    # normalize_by_hw: the spatial-attention half of mask and the global term per position.
    hw = H * W if loss.normalize_by_hw else 1
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    a = math.sqrt(S_t[n][i][j]) * math.sqrt(A_t[n][c])
                    d_fg = (a * math.sqrt(M_fg[n, i, j]) * float(s[n, c, i, j])
                            - a * math.sqrt(M_fg[n, i, j]) * float(t[n, c, i, j]))
                    d_bg = (a * math.sqrt(M_bg[n, i, j]) * float(s[n, c, i, j])
                            - a * math.sqrt(M_bg[n, i, j]) * float(t[n, c, i, j]))
                    fg += d_fg**2
                    bg += d_bg**2
        mask += sum(abs(A_s[n][c] - A_t[n][c]) for c in range(C))
        mask += sum(abs(S_s[n][i][j] - S_t[n][i][j])
                    for i in range(H) for j in range(W)) / hw
    glob = float(((gc_reference(loss.gc_student, s) - gc_reference(loss.gc_teacher, t))
                  **2).sum()) / hw
    w = loss.loss_weight
    return dict(fg=w * loss.alpha_fgd * fg / N, bg=w * loss.beta_fgd * bg / N,
                mask=w * loss.gamma_fgd * mask / N, glob=w * loss.lambda_fgd * glob / N)


def randomize(module, seed):
    """Give every parameter non-trivial values (the GcBlocks start as the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module


def maps(C=4, N=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(N, C, *FEAT_HW, generator=g),
            torch.randn(N, C, *FEAT_HW, generator=g))


@pytest.mark.parametrize('boxes', [
    BOXES,
    [torch.tensor([[0., 0., 56., 40.]]), torch.tensor([[-80., -8., -60., 30.]])],
    [torch.tensor([[3.3, 7.9, 17.1, 38.2], [3.3, 7.9, 17.1, 38.2], [50., 33., 90., 99.]])],
])
def test_masks_match_slow_transcription(boxes):
    """Overlaps, clipping, zero-area, fully-covered and box-less images match the loops."""
    fg, bg = fgd_masks(boxes, INPUT_HW, FEAT_HW)
    ref_fg, ref_bg = masks_reference(boxes, INPUT_HW, *FEAT_HW)
    torch.testing.assert_close(fg, ref_fg.float())
    torch.testing.assert_close(bg, ref_bg.float())


def test_masks_index_rows_by_y_on_padded_input():
    """Stored values: a wide box on a 4x8 map marks rows 0-1, columns 1-3, value 1/6."""
    # Padded input 32x64 (stride 8); the box spans x 8..24 -> columns 1..3, y 0..8 -> rows
    # 0..1. The official transposed indexing would mark rows 1..3 and columns 0..1.
    fg, bg = fgd_masks([torch.tensor([[8., 0., 24., 8.]])], (32, 64), (4, 8))
    expected = torch.zeros(1, 4, 8)
    expected[0, 0:2, 1:4] = 1 / 6
    torch.testing.assert_close(fg, expected)
    torch.testing.assert_close(bg, (expected == 0).float() / 26)


def test_masks_scale_boxes_by_padded_not_unpadded_shape():
    """The same box covers a different region when the padded batch is larger."""
    box = [torch.tensor([[0., 0., 16., 16.]])]
    fg_tight, _ = fgd_masks(box, (32, 32), (4, 4))
    fg_padded, _ = fgd_masks(box, (64, 64), (4, 4))
    assert (fg_tight > 0).sum() == 9 and (fg_padded > 0).sum() == 4


def test_attention_matches_slow_transcription():
    """Spatial and channel attention equal the H·W- and C-scaled softmaxes."""
    f, _ = maps()
    for temp in (0.5, 0.8, 2.0):
        S, A = spatial_channel_attention(f, temp)
        ref_S, ref_A = attention_reference(f, temp)
        torch.testing.assert_close(S, torch.tensor(ref_S))
        torch.testing.assert_close(A, torch.tensor(ref_A))


@pytest.mark.parametrize('kwargs', [
    dict(),                                                          # RetinaNet / GFL
    dict(temp=0.8, alpha_fgd=1.6e-3, beta_fgd=8e-4, gamma_fgd=8e-4,  # FCOS
         lambda_fgd=8e-6),
    dict(temp=1.0, alpha_fgd=1.0, beta_fgd=2.0, gamma_fgd=3.0, lambda_fgd=4.0,
         loss_weight=0.5, normalize_by_hw=True),
])
def test_matches_slow_transcription(kwargs):
    """Each weighted term equals the loop-by-loop formula, GcBlocks randomised."""
    loss = randomize(FGDLoss(4, 4, **kwargs), seed=1)
    s, t = maps()
    out = loss(s, t, BOXES, INPUT_HW)
    ref = fgd_reference(loss, s, t, BOXES, INPUT_HW)
    for key, ref_key in [('fg', 'fg'), ('bg', 'bg'), ('mask', 'mask'), ('global', 'glob')]:
        assert out[key].item() == pytest.approx(ref[ref_key], rel=1e-4), key


def test_image_without_boxes_is_finite_and_background_only():
    """No boxes anywhere: fg is 0, bg is finite and positive, no NaN in any term."""
    s, t = maps()
    out = FGDLoss(4, 4)(s, t, [torch.zeros(0, 4), torch.zeros(0, 4)], INPUT_HW)
    assert out['fg'].item() == 0 and out['bg'].item() > 0
    assert all(torch.isfinite(v) for v in out.values())


def test_image_fully_covered_has_no_background_and_no_nan():
    """A box over the whole image (N_bg = 0) gives a zero bg mask, not a division by 0."""
    s, t = maps(N=1)
    _, bg = fgd_masks([torch.tensor([[0., 0., 56., 40.]])], INPUT_HW, FEAT_HW)
    out = FGDLoss(4, 4)(s, t, [torch.tensor([[0., 0., 56., 40.]])], INPUT_HW)
    assert bg.sum() == 0 and out['bg'].item() == 0
    assert all(torch.isfinite(v) for v in out.values())


def test_focal_terms_zero_when_student_equals_teacher():
    """fg, bg and mask vanish for equal maps; global too while the GcBlocks are fresh."""
    _, t = maps()
    out = FGDLoss(4, 4)(t.clone(), t, BOXES, INPUT_HW)
    for key in ('fg', 'bg', 'mask', 'global'):
        assert out[key].item() == pytest.approx(0.0, abs=1e-9), key


def test_gradient_reaches_student_and_gc_blocks_not_teacher():
    """Student, align conv and both GcBlocks get gradients; the teacher tensor does not."""
    loss = randomize(FGDLoss(3, 4), seed=2)
    s = torch.randn(2, 3, *FEAT_HW, requires_grad=True)
    t = torch.randn(2, 4, *FEAT_HW, requires_grad=True)
    sum(loss(s, t, BOXES, INPUT_HW).values()).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None
    for part in (loss.align, loss.gc_student, loss.gc_teacher):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_student_channels_are_aligned_to_teacher():
    """A 1x1 align conv exists only when the channel counts differ."""
    assert FGDLoss(4, 4).align is None
    loss = FGDLoss(3, 8)
    assert loss.align.in_channels == 3 and loss.align.out_channels == 8
    out = loss(torch.randn(2, 3, *FEAT_HW), torch.randn(2, 8, *FEAT_HW), BOXES, INPUT_HW)
    assert all(torch.isfinite(v) for v in out.values())


def test_loss_weight_is_linear():
    """loss_weight scales every term linearly."""
    s, t = maps()
    one = randomize(FGDLoss(4, 4, loss_weight=1.0), 3)(s, t, BOXES, INPUT_HW)
    three = randomize(FGDLoss(4, 4, loss_weight=3.0), 3)(s, t, BOXES, INPUT_HW)
    for key in one:
        assert three[key].item() == pytest.approx(3 * one[key].item(), rel=1e-6)


def test_normalize_by_hw_leaves_fg_and_bg_unchanged():
    """fg and bg (masks already summing to ~1 per box / background) ignore the option."""
    s, t = maps()
    plain = randomize(FGDLoss(4, 4), 4)(s, t, BOXES, INPUT_HW)
    normed = randomize(FGDLoss(4, 4, normalize_by_hw=True), 4)(s, t, BOXES, INPUT_HW)
    for key in ('fg', 'bg'):
        assert normed[key].item() == pytest.approx(plain[key].item(), rel=1e-6), key
    assert normed['global'].item() == pytest.approx(plain['global'].item() / 35, rel=1e-6)
    assert 0 < normed['mask'].item() < plain['mask'].item()


def test_normalize_by_hw_makes_global_and_mask_invariant_to_map_size():
    """The same per-position error tiled 2x2 (4x the positions): global and mask keep
    their value with the option and grow 4x (the spatial half) without it."""
    s, t = maps(N=2, C=4, seed=6)
    # The boxes do not enter mask or global; the tiled map covers a padded input 2x2 larger.
    boxes = [torch.tensor([[8., 4., 30., 20.]])] * 2
    big_s, big_t = s.repeat(1, 1, 2, 2), t.repeat(1, 1, 2, 2)
    big_hw = (2 * INPUT_HW[0], 2 * INPUT_HW[1])
    for normalize in (True, False):
        loss = randomize(FGDLoss(4, 4, normalize_by_hw=normalize), 7)
        small = loss(s, t, boxes, INPUT_HW)
        big = loss(big_s, big_t, boxes, big_hw)
        ratio = {key: big[key].item() / small[key].item() for key in ('mask', 'global')}
        if normalize:
            assert ratio['global'] == pytest.approx(1.0, rel=1e-4)
            assert ratio['mask'] == pytest.approx(1.0, rel=1e-4)
        else:
            assert ratio['global'] == pytest.approx(4.0, rel=1e-4)
            # The channel half is the same on both maps, the spatial half 4x.
            S_s, A_s = spatial_channel_attention(s, loss.temp)
            S_t, A_t = spatial_channel_attention(t, loss.temp)
            channel, spatial = (A_s - A_t).abs().sum(), (S_s - S_t).abs().sum()
            expected = (channel + 4 * spatial) / (channel + spatial)
            assert ratio['mask'] == pytest.approx(expected.item(), rel=1e-4)


def test_data_samples_give_the_same_loss():
    """mmdet 3 DetDataSamples (HorizontalBoxes, batch_input_shape) replace the raw args."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    samples = []
    for boxes in BOXES:
        sample = DetDataSample(metainfo=dict(batch_input_shape=INPUT_HW))
        sample.gt_instances = InstanceData(bboxes=HorizontalBoxes(boxes))
        samples.append(sample)
    loss = randomize(FGDLoss(4, 4), 5)
    s, t = maps()
    direct = loss(s, t, BOXES, INPUT_HW)
    via_samples = loss(s, t, data_samples=samples)
    for key in direct:
        assert via_samples[key].item() == pytest.approx(direct[key].item(), rel=1e-6)


@pytest.mark.parametrize('kwargs, match', [
    (dict(temp=0), 'FGDLoss: temp .* got 0'),
    (dict(temp=-0.5), 'FGDLoss: temp .* got -0.5'),
    (dict(alpha_fgd=-1e-3), 'FGDLoss: alpha_fgd .* got -0.001'),
    (dict(lambda_fgd=float('nan')), 'FGDLoss: lambda_fgd'),
    (dict(loss_weight=-1), 'FGDLoss: loss_weight .* got -1'),
    (dict(teacher_channels=1), 'FGDLoss: teacher_channels must be >= 2'),
])
def test_bad_arguments_rejected(kwargs, match):
    """Bad hyper-parameters fail at build time, naming the argument and value."""
    args = dict(student_channels=4, teacher_channels=4)
    with pytest.raises(ValueError, match=match):
        FGDLoss(**{**args, **kwargs})


def test_bad_shapes_rejected():
    """Channel, spatial, box-count and box-shape mismatches name what is wrong."""
    loss = FGDLoss(4, 8)
    s, t = torch.randn(2, 4, 5, 7), torch.randn(2, 8, 5, 7)
    with pytest.raises(ValueError, match=r'student \(2, 4, 5, 7\) / teacher \(2, 4, 5, 7\)'
                                         r'.*teacher_channels=8'):
        loss(s, torch.randn(2, 4, 5, 7), BOXES, INPUT_HW)
    with pytest.raises(ValueError, match=r'student \(2, 4, 5, 7\) vs teacher '
                                         r'\(2, 8, 7, 5\)'):
        loss(s, torch.randn(2, 8, 7, 5), BOXES, INPUT_HW)
    with pytest.raises(ValueError, match='1 gt_bboxes entries for a batch of 2'):
        loss(s, t, BOXES[:1], INPUT_HW)
    with pytest.raises(ValueError, match=r'gt_bboxes\[1\] must have shape \(K, 4\), got '
                                         r'\(3, 5\)'):
        loss(s, t, [BOXES[0], torch.zeros(3, 5)], INPUT_HW)
    with pytest.raises(ValueError, match='pass gt_bboxes and batch_input_shape'):
        loss(s, t)


def test_built_through_mmrazor_registry_by_scoped_name():
    """Configs name it `kd_mmdet.FGDLoss` from mmrazor's registry."""
    from mmrazor.registry import MODELS
    loss = MODELS.build(dict(type='kd_mmdet.FGDLoss', student_channels=64,
                             teacher_channels=128, temp=0.8, normalize_by_hw=True))
    assert isinstance(loss, FGDLoss) and loss.temp == 0.8 and loss.normalize_by_hw
    assert (loss.alpha_fgd, loss.beta_fgd, loss.gamma_fgd, loss.lambda_fgd) == (
        1e-3, 5e-4, 5e-4, 5e-6)


def test_configurable_distiller_feeds_data_samples_from_a_recorder():
    """A recorder on mmdet's unpack_gt_instances feeds data_samples; terms logged apart."""
    from mmdet.models.dense_heads import base_dense_head
    from mmdet.structures import DetDataSample
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData
    from torch import nn

    from kd_mmdet.models.distillers import ConfigurableDistiller

    class Toy(nn.Module):
        """A neck and a head that unpacks the GT like mmdet's dense heads."""

        def __init__(self, channels):
            super().__init__()
            self.neck = nn.Conv2d(3, channels, 1)

        def forward(self, x, samples):
            feat = self.neck(x)
            base_dense_head.unpack_gt_instances(samples)
            return feat

    samples = []
    for boxes in BOXES:
        sample = DetDataSample(metainfo=dict(batch_input_shape=INPUT_HW))
        sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.zeros(len(boxes)))
        samples.append(sample)
    gt = dict(type='FunctionInputs',
              source='mmdet.models.dense_heads.base_dense_head.unpack_gt_instances')
    # mmrazor's recorders resolve in mmrazor's registries whatever scope earlier tests set
    with DefaultScope.overwrite_default_scope('mmrazor'):
        distiller = ConfigurableDistiller(
            student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck'), gt=gt),
            teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
            distill_losses=dict(loss_fgd=dict(type='kd_mmdet.FGDLoss', student_channels=4,
                                              teacher_channels=8)),
            loss_forward_mappings=dict(loss_fgd=dict(
                preds_S=dict(from_student=True, recorder='fpn'),
                preds_T=dict(from_student=False, recorder='fpn'),
                data_samples=dict(from_student=True, recorder='gt', data_idx=0))))
    student, teacher = Toy(4), Toy(8)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.randn(2, 3, *FEAT_HW)
    with distiller.student_recorders:
        student(x, samples)
    with distiller.teacher_recorders:
        teacher(x, samples)
    losses = distiller.compute_distill_losses()
    assert set(losses) == {'loss_fgd_fg', 'loss_fgd_bg', 'loss_fgd_mask', 'loss_fgd_global'}
    assert all(torch.isfinite(v) for v in losses.values())


def test_inverted_box_one_cell_off_covers_nothing_without_nan():
    """y2 < y1 by one grid row: 1 / (bottom - top + 1) is 1/0, yet the masks stay finite."""
    fg, bg = fgd_masks([torch.tensor([[0., 2., 0., 0.]])], (8, 8), (4, 1))
    assert torch.equal(fg, torch.zeros(1, 4, 1))
    assert torch.allclose(bg, torch.full((1, 4, 1), 0.25))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_maps_computed_in_fp32(dtype):
    """fp16/bf16 maps with an align conv (fp32 weights) give finite fp32 terms."""
    torch.manual_seed(0)
    loss = FGDLoss(student_channels=3, teacher_channels=4)
    s = (torch.randn(2, 3, 4, 4) * 1e4).to(dtype)
    t = (torch.randn(2, 4, 4, 4) * 1e4).to(dtype)
    out = loss(s, t, gt_bboxes=[torch.tensor([[0., 0., 16., 16.]]), torch.zeros(0, 4)],
               batch_input_shape=(32, 32))
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in out.values())


# mask_mode='official': what yzd-v/FGD (mmdet/distillation/losses/fgd.py) computes.
# Un-padded image shapes inside the 40x56 padded batch: the boxes are mapped with these.
IMG_SHAPES = [(33, 50), (40, 41)]


def official_masks_reference(gt_bboxes, img_shapes, H, W):
    """Statement-by-statement transcription of the official FeatureLoss.forward masks:
    img_shape mapping, floor/ceil, Mask_fg[i][wmin:wmax+1, hmin:hmax+1] (x-range on the
    rows) with Python slicing, background 1/N_bg."""
    N = len(gt_bboxes)
    Mask_fg = torch.zeros(N, H, W)
    Mask_bg = torch.ones(N, H, W)
    for i in range(N):
        boxes = gt_bboxes[i]
        new = torch.ones_like(boxes)
        new[:, 0] = boxes[:, 0] / img_shapes[i][1] * W
        new[:, 2] = boxes[:, 2] / img_shapes[i][1] * W
        new[:, 1] = boxes[:, 1] / img_shapes[i][0] * H
        new[:, 3] = boxes[:, 3] / img_shapes[i][0] * H
        wmin, wmax = torch.floor(new[:, 0]).int(), torch.ceil(new[:, 2]).int()
        hmin, hmax = torch.floor(new[:, 1]).int(), torch.ceil(new[:, 3]).int()
        area = 1.0 / (hmax.view(1, -1) + 1 - hmin.view(1, -1)) / (
            wmax.view(1, -1) + 1 - wmin.view(1, -1))
        for j in range(len(boxes)):
            region = Mask_fg[i][wmin[j]:wmax[j] + 1, hmin[j]:hmax[j] + 1]
            Mask_fg[i][wmin[j]:wmax[j] + 1, hmin[j]:hmax[j] + 1] = torch.maximum(
                region, area[0][j])
        Mask_bg[i] = torch.where(Mask_fg[i] > 0, 0, 1)
        if torch.sum(Mask_bg[i]):
            Mask_bg[i] /= torch.sum(Mask_bg[i])
    return Mask_fg, Mask_bg


OFFICIAL_BOXES = [
    BOXES,
    [torch.tensor([[0., 0., 50., 33.], [41., 2., 50., 30.]]),         # whole image; right edge
     torch.tensor([[2.5, 30.1, 40.9, 39.9], [-6., -3., 5., 4.]])],   # bottom strip; negative
    [torch.tensor([[3.3, 7.9, 17.1, 38.2], [30., 1., 49., 12.]]), torch.zeros(0, 4)],
]


@pytest.mark.parametrize('boxes', OFFICIAL_BOXES)
def test_official_masks_match_statement_transcription(boxes):
    """fgd_masks_official equals the official statements on a non-square padded map,
    negative corners and boxes reaching the un-padded edge included."""
    fg, bg = fgd_masks_official(boxes, IMG_SHAPES, FEAT_HW)
    ref_fg, ref_bg = official_masks_reference(boxes, IMG_SHAPES, *FEAT_HW)
    torch.testing.assert_close(fg, ref_fg, rtol=0, atol=0)
    torch.testing.assert_close(bg, ref_bg, rtol=0, atol=1e-7)
    assert fg.shape == (2, *FEAT_HW)


def test_official_masks_differ_from_paper_on_non_square_padded_map():
    """The switch matters: on a 5x7 map of a padded batch the official masks are not the
    paper's (transposed and stretched); on a square un-padded one with a box symmetric
    about the diagonal they are the same."""
    boxes = [torch.tensor([[8., 4., 30., 20.]])]
    official, _ = fgd_masks_official(boxes, [(33, 50)], FEAT_HW)
    paper, _ = fgd_masks(boxes, INPUT_HW, FEAT_HW)
    assert not torch.equal(official, paper)
    # rows of the official mask come from x: columns 1..4 of the paper become rows here
    assert official[0, :, 0].nonzero().flatten().tolist() == [1, 2, 3, 4]
    square = [torch.tensor([[8., 8., 24., 24.]])]
    torch.testing.assert_close(fgd_masks_official(square, [(40, 40)], (5, 5))[0],
                               fgd_masks(square, (40, 40), (5, 5))[0])


def _samples(boxes, img_shapes):
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    samples = []
    for b, shape in zip(boxes, img_shapes):
        sample = DetDataSample(metainfo=dict(batch_input_shape=INPUT_HW, img_shape=shape))
        sample.gt_instances = InstanceData(bboxes=HorizontalBoxes(b))
        samples.append(sample)
    return samples


@pytest.mark.parametrize('boxes', OFFICIAL_BOXES[:2])
def test_official_mode_matches_slow_transcription_of_official_loss(boxes):
    """FGDLoss(mask_mode='official') fed mmdet 3 data samples (img_shape read from them)
    equals the loop-by-loop FGD terms on the official code's masks; mask and global
    terms, which use no mask, equal the paper mode's."""
    loss = randomize(FGDLoss(4, 4, mask_mode='official'), 3)
    s, t = maps()
    out = loss(s, t, data_samples=_samples(boxes, IMG_SHAPES))
    ref = fgd_reference(loss, s, t, None, None,
                        masks=official_masks_reference(boxes, IMG_SHAPES, *FEAT_HW))
    for key, ref_key in (('fg', 'fg'), ('bg', 'bg'), ('mask', 'mask'), ('global', 'glob')):
        assert out[key].item() == pytest.approx(ref[ref_key], rel=1e-4), key
    paper = randomize(FGDLoss(4, 4), 3)(s, t, boxes, INPUT_HW)
    assert out['mask'].item() == pytest.approx(paper['mask'].item(), rel=1e-6)
    assert out['fg'].item() != pytest.approx(paper['fg'].item(), rel=1e-3)
    # explicit img_shapes give the same numbers as the data samples
    direct = loss(s, t, boxes, INPUT_HW, img_shapes=IMG_SHAPES)
    for key in out:
        assert direct[key].item() == pytest.approx(out[key].item(), rel=1e-6)


def test_official_mode_bad_input_named():
    """An unknown mask_mode, or official mode without image shapes or with the wrong
    number of them, fails naming FGDLoss, the argument and the shapes."""
    with pytest.raises(ValueError, match=r"FGDLoss: mask_mode must be one of \('paper', "
                                         r"'official'\).*got 'transposed'"):
        FGDLoss(4, 4, mask_mode='transposed')
    loss = FGDLoss(4, 4, mask_mode='official')
    s, t = maps()
    with pytest.raises(ValueError, match=r"FGDLoss: mask_mode='official' .* pass "
                                         r'data_samples or img_shapes'):
        loss(s, t, BOXES, INPUT_HW)
    with pytest.raises(ValueError, match=r'FGDLoss: img_shapes must be 2 \(h, w\) > 0 pairs '
                                         r'for a batch of maps \(2, 4, 5, 7\), got '
                                         r'\[\(33, 50\)\]'):
        loss(s, t, BOXES, INPUT_HW, img_shapes=[(33, 50)])
    assert FGDLoss(4, 4).mask_mode == 'paper'
