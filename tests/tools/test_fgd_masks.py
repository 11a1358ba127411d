"""kd_mmdet.analysis.fgd_maps and tools/analysis/fgd_masks.py: FGD's masks and attention
maps (Yang et al., CVPR 2022) as the loss computes them, drawn on the tiny digits set."""
import json
import os.path as osp

import pytest
import torch

from kd_mmdet.analysis.fgd_maps import (annotations_first, fgd_levels, fgd_maps,
                                        level_name)
from tests.tools import REPO, load_tool

FGD_CFG = osp.join(REPO, 'configs/fgd/fgd_fpn_gfl_digits.py')
PLAIN_CFG = osp.join(REPO, 'configs/toy/gfl_student_digits.py')


def feature(C=6, H=8, W=8, seed=0):
    return torch.randn(C, H, W, generator=torch.Generator().manual_seed(seed))


# ---- fgd_maps ----------------------------------------------------------------------
def test_foreground_is_one_over_box_area_inside_and_zero_outside():
    """A box on a stride-8 map covers rows 2..5 and columns 1..3 (floor/ceil edges,
    inclusive): 12 cells of value 1/12, every other cell 0."""
    # x 9..23 -> 1.125..2.875 cells -> columns 1..3; y 17..39 -> rows 2..5.
    maps = fgd_maps(feature(), torch.tensor([[9., 17., 23., 39.]]), (64, 64), temp=0.5)
    for i in range(8):
        for j in range(8):
            inside = 2 <= i <= 5 and 1 <= j <= 3
            assert maps.mask_fg[i, j].item() == pytest.approx(1 / 12 if inside else 0.0)
    assert maps.mask_fg.sum().item() == pytest.approx(1.0)


def test_background_is_one_over_background_cells_and_zero_inside():
    """The background mask spreads 1 evenly over the 64 - 12 cells outside the box."""
    maps = fgd_maps(feature(), torch.tensor([[9., 17., 23., 39.]]), (64, 64), temp=0.5)
    inside = maps.mask_fg > 0
    assert torch.all(maps.mask_bg[inside] == 0)
    assert torch.allclose(maps.mask_bg[~inside], torch.full((52, ), 1 / 52))
    assert maps.mask_bg.sum().item() == pytest.approx(1.0)


def test_overlapping_boxes_keep_the_smaller_boxs_value():
    """Where two boxes overlap, the cell takes the larger 1/area, the smaller box's."""
    boxes = torch.tensor([[0., 0., 56., 56.], [16., 16., 24., 24.]])  # 8x8 and 2x2 cells
    maps = fgd_maps(feature(), boxes, (64, 64), temp=0.5)
    assert maps.mask_fg[2, 2].item() == pytest.approx(1 / 4)
    assert maps.mask_fg[6, 6].item() == pytest.approx(1 / 64)


def test_attention_maps_sum_to_positions_and_channels():
    """S sums to H·W and A to C (mean 1, as in FGD), for teacher and student alike."""
    maps = fgd_maps(feature(C=6, H=5, W=7), torch.zeros(0, 4), (40, 56), temp=0.5,
                    feat_S=feature(C=3, H=5, W=7, seed=1))
    assert maps.spatial_T.shape == maps.spatial_S.shape == (5, 7)
    assert maps.channel_T.shape == (6, ) and maps.channel_S.shape == (3, )
    assert maps.spatial_T.sum().item() == pytest.approx(35.0, rel=1e-5)
    assert maps.spatial_S.sum().item() == pytest.approx(35.0, rel=1e-5)
    assert maps.channel_T.sum().item() == pytest.approx(6.0, rel=1e-5)
    assert maps.channel_S.sum().item() == pytest.approx(3.0, rel=1e-5)
    assert (maps.spatial_T > 0).all() and (maps.channel_T > 0).all()


def test_spatial_attention_peaks_where_the_map_is_active_and_sharpens_with_lower_temp():
    """One strong position takes the attention's maximum, more of it at lower T; a
    constant map gives S = 1 everywhere."""
    feat = 0.1 * feature(C=4, H=6, W=6)
    feat[:, 4, 1] = 3.0
    warm = fgd_maps(feat, torch.zeros(0, 4), (48, 48), temp=2.0).spatial_T
    cold = fgd_maps(feat, torch.zeros(0, 4), (48, 48), temp=0.5).spatial_T
    assert divmod(int(cold.argmax()), 6) == (4, 1)
    assert cold[4, 1] > warm[4, 1] > 1.0
    flat = fgd_maps(torch.ones(4, 6, 6), torch.zeros(0, 4), (48, 48), temp=0.5)
    assert torch.allclose(flat.spatial_T, torch.ones(6, 6))
    assert torch.allclose(flat.channel_T, torch.ones(4))


def test_image_without_boxes_is_all_background():
    """No boxes: the foreground is empty and the background is 1 / (H·W) everywhere."""
    maps = fgd_maps(feature(H=4, W=5), torch.zeros(0, 4), (32, 40), temp=0.5)
    assert maps.mask_fg.abs().sum() == 0
    assert torch.allclose(maps.mask_bg, torch.full((4, 5), 1 / 20))


def test_bad_shapes_raise_with_the_shapes():
    """A batched map, student/teacher size mismatch or (K, 5) boxes fail clearly."""
    boxes = torch.zeros(0, 4)
    with pytest.raises(ValueError, match=r'\(1, 6, 8, 8\)'):
        fgd_maps(feature()[None], boxes, (64, 64), 0.5)
    with pytest.raises(ValueError, match=r'student \(6, 4, 4\) vs teacher \(6, 8, 8\)'):
        fgd_maps(feature(), boxes, (64, 64), 0.5, feat_S=feature(H=4, W=4))
    with pytest.raises(ValueError, match=r'\(2, 5\)'):
        fgd_maps(feature(), torch.zeros(2, 5), (64, 64), 0.5)


def test_level_name_rounds_padding_away():
    """128 px over 16 cells is P3 (stride 8); a padded 160 px over 20 cells too."""
    assert level_name(128, 16) == ('P3', 8)
    assert level_name(160, 20) == ('P3', 8)
    assert level_name(96, 3) == ('P5', 32)
    assert level_name(128, 1) == ('P7', 128)


# ---- annotations_first ---------------------------------------------------------------
def test_annotations_move_before_resize_and_nothing_else_moves():
    """mmdet's test order (load, resize, annotations, pack) becomes load, annotations,
    resize, pack; the input list is left as it was."""
    pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 64)),
                dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
                dict(type='PackDetInputs')]
    steps = annotations_first(pipeline)
    assert [s['type'] for s in steps] == ['LoadImageFromFile', 'mmdet.LoadAnnotations',
                                          'Resize', 'PackDetInputs']
    assert steps[1]['with_mask'] is True
    assert pipeline[1]['type'] == 'Resize'


def test_missing_annotations_are_added_and_missing_loader_raises():
    """Without LoadAnnotations a box loader is added; without an image loader: error."""
    steps = annotations_first([dict(type='LoadImageFromFile'), dict(type='PackDetInputs')])
    assert steps[1] == dict(type='LoadAnnotations', with_bbox=True)
    with pytest.raises(ValueError, match='LoadImageFromFile'):
        annotations_first([dict(type='Resize', scale=(8, 8))])


# ---- fgd_levels ------------------------------------------------------------------------
def distiller_of(cfg):
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS
    # mmrazor's recorders resolve in mmrazor's registries whatever scope earlier tests set
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(cfg.model.distiller)


def test_fgd_levels_of_the_digits_config_are_the_five_fpn_outputs():
    """configs/fgd/fgd_fpn_gfl_digits.py: loss_fgd_fpn<i> reads neck output i."""
    from mmengine.config import Config
    levels = fgd_levels(distiller_of(Config.fromfile(FGD_CFG)))
    assert levels == {i: f'loss_fgd_fpn{i}' for i in range(5)}


def test_fgd_levels_refuses_a_loss_on_something_else_than_the_neck():
    """An FGD loss reading the backbone cannot be placed on an FPN level: it is named."""
    from mmengine.config import Config
    cfg = Config.fromfile(FGD_CFG)
    cfg.model.distiller.teacher_recorders.stem = dict(type='ModuleOutputs',
                                                      source='backbone')
    cfg.model.distiller.loss_forward_mappings.loss_fgd_fpn2.preds_T.recorder = 'stem'
    with pytest.raises(ValueError, match=r'loss_fgd_fpn2 .*backbone'):
        fgd_levels(distiller_of(cfg))


# ---- the tool on the tiny digits set ------------------------------------------------------
def data_root_options(root):
    return [f'{split}_dataloader.dataset.data_root={root}/' for split in ('train', 'val')]


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/fgd_masks.py')


@pytest.fixture(scope='module')
def fgd_model(tool):
    """The toy FGD GFL pair, randomly initialised (no teacher checkpoint)."""
    from mmengine.config import Config
    cfg = Config.fromfile(FGD_CFG)
    cfg.model.teacher_ckpt = None
    return tool.build_model(cfg)


def first_val_image(tool, config, root):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in data_root_options(root)))
    return next(iter(tool.build_dataloader(cfg, 'val', [0])))


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_tool_writes_one_png_per_image_with_a_progress_bar(tool, tiny_digits, tmp_path,
                                                           capsys):
    """Two val images -> two PNGs named after the images; the bar reaches 2/2."""
    assert tool.main([FGD_CFG, '--num-images', '2', '--levels', '0', '1', '--out-dir',
                      str(tmp_path), '--dpi', '50', '--cfg-options', 'model.teacher_ckpt=None',
                      *data_root_options(tiny_digits)]) == 0
    out = capsys.readouterr().out
    written = out.split()[-2:]
    assert written == [str(tmp_path / '00000_fgd.png'), str(tmp_path / '00001_fgd.png')]
    assert '2/2' in out
    for path in written:
        with open(path, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_boxes_are_in_network_input_pixels(tool, fgd_model, tiny_digits):
    """96 px images resized to 128 px: the drawn boxes are the annotations times 4/3
    although the val pipeline loads annotations after its Resize."""
    result = tool.image_maps(fgd_model, first_val_image(tool, FGD_CFG, tiny_digits))
    ann = json.load(open(osp.join(tiny_digits, 'annotations', 'instances_val.json')))
    image_id = [img['id'] for img in ann['images']
                if result['img_path'].endswith(img['file_name'])][0]
    xywh = torch.tensor([a['bbox'] for a in ann['annotations'] if a['image_id'] == image_id])
    expected = torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], dim=1) * 128 / 96
    assert result['batch_input_shape'] == (128, 128)
    assert result['image'].shape == (128, 128, 3)
    torch.testing.assert_close(result['boxes'], expected.float(), rtol=0, atol=1e-3)


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_drawn_maps_are_what_the_loss_uses(tool, fgd_model, tiny_digits):
    """On every level the loss's mask term equals γ·(Σ|A_s − A_t| + Σ|S_s − S_t|) of the
    drawn attention maps, and the masks split the map into foreground and background."""
    result = tool.image_maps(fgd_model, first_val_image(tool, FGD_CFG, tiny_digits))
    assert [row['name'] for row in result['levels']] == ['P3', 'P4', 'P5', 'P6', 'P7']
    for row in result['levels']:
        maps, loss = row['maps'], fgd_model.distiller.distill_losses[row['loss']]
        assert row['student_channels'] == (64, 128)  # attention after the align conv
        mask_term = loss.gamma_fgd * float((maps.channel_S - maps.channel_T).abs().sum() +
                                           (maps.spatial_S - maps.spatial_T).abs().sum())
        assert row['terms']['mask'] == pytest.approx(mask_term, rel=1e-5)
        H, W = maps.mask_fg.shape
        assert maps.spatial_T.sum().item() == pytest.approx(H * W, rel=1e-4)
        assert torch.equal(maps.mask_fg > 0, maps.mask_bg == 0)
        if (maps.mask_bg > 0).any():
            assert maps.mask_bg.sum().item() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_raw_student_attention_is_over_the_students_own_channels(tool, fgd_model,
                                                                 tiny_digits):
    """--raw-student: the student's 64 channels, not the 128 of the align conv."""
    result = tool.image_maps(fgd_model, first_val_image(tool, FGD_CFG, tiny_digits),
                             levels=[1], raw_student=True)
    (row, ) = result['levels']
    assert row['student_channels'] == (64, 64) and row['maps'].channel_S.shape == (64, )


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_plain_detector_config_draws_its_own_maps(tool, tiny_digits, tmp_path, capsys):
    """A detector config without a teacher: one attention column, every neck output."""
    from mmengine.config import Config
    cfg = Config.fromfile(PLAIN_CFG)
    model = tool.build_model(cfg)
    result = tool.image_maps(model, first_val_image(tool, PLAIN_CFG, tiny_digits), temp=0.8)
    assert len(result['levels']) == 5
    assert all(row['maps'].spatial_S is None and row['temp'] == 0.8
               for row in result['levels'])
    assert tool.main([PLAIN_CFG, '--indices', '3', '--levels', '0', '--out-dir',
                      str(tmp_path), '--dpi', '50', '--cfg-options',
                      *data_root_options(tiny_digits)]) == 0
    assert capsys.readouterr().out.split()[-1] == str(tmp_path / '00003_fgd.png')


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_unknown_level_and_misplaced_options_fail_clearly(tool, tiny_digits, tmp_path):
    """A level no FGD loss reads, or --temp with a distillation config, stop the tool."""
    options = ['--out-dir', str(tmp_path), '--cfg-options', 'model.teacher_ckpt=None',
               *data_root_options(tiny_digits)]
    with pytest.raises(SystemExit, match=r'no level \[7\]'):
        tool.main([FGD_CFG, '--num-images', '1', '--levels', '7', *options])
    with pytest.raises(SystemExit, match='--temp'):
        tool.main([FGD_CFG, '--temp', '0.8', *options])


@pytest.mark.slow  # builds toy GFL detectors (seconds)
def test_palette_pngs_are_indexed_and_smaller(tool, fgd_model, tiny_digits, tmp_path):
    """--palette: the same figure as a 256-colour indexed PNG, smaller than the RGBA one."""
    from PIL import Image
    result = tool.image_maps(fgd_model, first_val_image(tool, FGD_CFG, tiny_digits),
                             levels=[0])
    full, small = str(tmp_path / 'full.png'), str(tmp_path / 'small.png')
    tool.draw(result, full, 'full', dpi=60)
    tool.draw(result, small, 'small', dpi=60, palette=True)
    assert Image.open(small).mode == 'P' and Image.open(full).mode == 'RGBA'
    assert Image.open(small).size == Image.open(full).size
    assert osp.getsize(small) < osp.getsize(full)
