"""kd_mmdet.datasets.digits_crops: the pretraining crops of the toy backbones."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from kd_mmdet.datasets import digits_crops
from kd_mmdet.datasets.digits_det import load_digit_scans


def test_crop_object_squares_the_box_with_context_and_pads_at_the_border():
    image = np.zeros((50, 50, 3), np.uint8)
    image[10:20, 30:34] = 255                       # a 4 wide, 10 high object
    crop = digits_crops.crop_object(image, [30, 10, 4, 10], 30, context=0.25)
    assert crop.shape == (30, 30, 3)
    # side = 10 * 1.5 = 15 px from (24, 8) (the centre (32, 15) rounded): the object
    # fills rows 2..11 and columns 6..9 of the 15 px square, scaled by 2 to 30 px.
    ink = crop[..., 0] > 127
    rows, cols = np.nonzero(ink.any(1))[0], np.nonzero(ink.any(0))[0]
    assert abs(rows[0] - 4) <= 1 and abs(rows[-1] - 23) <= 1
    assert abs(cols[0] - 12) <= 1 and abs(cols[-1] - 19) <= 1
    # At the image corner the square leaves the image: edge pixels fill it, no black hole.
    corner = np.full((20, 20, 3), 200, np.uint8)
    out = digits_crops.crop_object(corner, [0, 0, 6, 6], 16, context=0.5)
    assert out.shape == (16, 16, 3) and out.min() == 200


def test_make_digits_crops_layout_counts_and_determinism(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    counts = digits_crops.make_digits_crops(a, num_train=40, num_val=12, img_size=64,
                                            crop_size=24, seed=3)
    assert counts == {'train': 40, 'val': 12}
    for split, n in counts.items():
        files = [osp.join(d, f) for d, _, fs in os.walk(osp.join(a, split)) for f in fs]
        assert len(files) == n
        assert sorted(os.listdir(osp.join(a, split))) == [str(i) for i in range(10)]
        assert Image.open(files[0]).size == (24, 24)
    digits_crops.make_digits_crops(b, num_train=40, num_val=12, img_size=64, crop_size=24,
                                   seed=3)
    for d, _, fs in os.walk(a):
        for f in fs:
            other = osp.join(b, osp.relpath(osp.join(d, f), a))
            assert open(osp.join(d, f), 'rb').read() == open(other, 'rb').read()


def test_crops_use_only_their_splits_scans(monkeypatch, tmp_path):
    """Train crops paste the crop_pools train scans, val crops its val scans, and both
    are parts of the detection set's training pool: no val or test handwriting of the
    detection set is seen in pretraining."""
    pools = digits_crops.crop_pools(5)
    det = load_digit_scans(5)
    crop_sources = [set(pools[s].source.tolist()) for s in ('train', 'val')]
    assert not crop_sources[0] & crop_sources[1]
    assert crop_sources[0] | crop_sources[1] == set(det['train'].source.tolist())
    seen = []
    real = digits_crops.render_image

    def spy(rng, scans, labels, size):
        seen.append(scans)
        return real(rng, scans, labels, size)

    monkeypatch.setattr(digits_crops, 'render_image', spy)
    digits_crops.make_digits_crops(str(tmp_path), num_train=10, num_val=10, img_size=64,
                                   seed=5)
    splits = [next(k for k, pool in pools.items() if np.array_equal(pool.images, scans))
              for scans in seen]
    assert splits[0] == 'train' and splits[-1] == 'val'
    assert splits == sorted(splits, key=['train', 'val'].index)


def test_bad_arguments_name_the_function():
    with pytest.raises(ValueError, match='make_digits_crops: crop_size'):
        digits_crops.make_digits_crops('/nonexistent', crop_size=8)
    with pytest.raises(ValueError, match='make_digits_crops: context'):
        digits_crops.make_digits_crops('/nonexistent', context=-0.1)
