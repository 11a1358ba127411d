import filecmp
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from kd_mmdet.datasets.digits_det import load_digit_scans, make_digits_detection


@pytest.fixture(scope='module')
def digits(tmp_path_factory):
    root = tmp_path_factory.mktemp('d')
    paths = make_digits_detection(str(root), num_train=60, num_val=20, img_size=128, seed=3)
    return str(root), paths


def test_pycocotools_reads_both_splits(digits):
    """Annotations load in pycocotools with the 10 digit classes and valid boxes."""
    root, paths = digits
    for split, n in (('train', 60), ('val', 20)):
        coco = COCO(paths[split])
        assert len(coco.getImgIds()) == n
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == [str(i) for i in range(10)]
        for ann in coco.dataset['annotations']:
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 128 and y + h <= 128
            assert ann['area'] == pytest.approx(w * h)
        for img in coco.dataset['images']:
            assert osp.isfile(osp.join(root, img['file_name']))


def test_ground_truth_scores_perfect_map(digits):
    """Submitting the ground truth as detections gives mAP 1 (the format is sound)."""
    _, paths = digits
    coco = COCO(paths['val'])
    dets = [dict(image_id=a['image_id'], category_id=a['category_id'], bbox=a['bbox'],
                 score=1.0) for a in coco.dataset['annotations']]
    ev = COCOeval(coco, coco.loadRes(dets), 'bbox')
    ev.evaluate(), ev.accumulate(), ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)


def test_all_coco_size_ranges_occur(tmp_path):
    """Small (< 32²), medium and large (>= 96²) boxes all occur at the default size."""
    paths = make_digits_detection(str(tmp_path), num_train=200, num_val=1, seed=0)
    areas = np.array([a['area'] for a in json.load(open(paths['train']))['annotations']])
    assert (areas < 32**2).sum() > 0
    assert ((areas >= 32**2) & (areas < 96**2)).sum() > 0
    assert (areas >= 96**2).sum() > 0


def test_deterministic_for_a_seed(tmp_path):
    """Equal seeds write identical files; another seed writes different ones."""
    a = make_digits_detection(str(tmp_path / 'a'), 5, 2, 64, seed=7)
    b = make_digits_detection(str(tmp_path / 'b'), 5, 2, 64, seed=7)
    c = make_digits_detection(str(tmp_path / 'c'), 5, 2, 64, seed=8)
    assert filecmp.cmp(a['train'], b['train'], shallow=False)
    assert filecmp.cmp(tmp_path / 'a/train/00003.png', tmp_path / 'b/train/00003.png',
                       shallow=False)
    assert not filecmp.cmp(a['train'], c['train'], shallow=False)


def test_train_and_val_use_disjoint_handwriting():
    """No source scan appears in both pools, and together they use all 1,797."""
    pools = load_digit_scans(seed=0)
    train = {s.tobytes() for s in pools['train'][0]}
    val = {s.tobytes() for s in pools['val'][0]}
    assert len(pools['train'][0]) + len(pools['val'][0]) == 1797
    # load_digits has a few byte-identical scans; disjoint indices imply at most those.
    assert len(train & val) <= 5


def test_small_image_size_rejected(tmp_path):
    with pytest.raises(ValueError, match='img_size'):
        make_digits_detection(str(tmp_path), 1, 1, img_size=16)


def test_test_split_leaves_train_and_val_unchanged(tmp_path):
    """A test split is drawn from its own stream: train and val stay byte-equal, the
    test images differ from val's although they share its handwriting, and a longer
    split starts with the images of a shorter one (what lets quality.py score runs
    trained before the test split existed)."""
    a = make_digits_detection(str(tmp_path / 'a'), 6, 3, 64, seed=1)
    b = make_digits_detection(str(tmp_path / 'b'), 6, 5, 64, seed=1, num_test=4)
    assert sorted(b) == ['test', 'train', 'val'] and sorted(a) == ['train', 'val']
    assert filecmp.cmp(a['train'], b['train'], shallow=False)
    for i in range(6):
        name = f'train/{i:05d}.png'
        assert filecmp.cmp(tmp_path / 'a' / name, tmp_path / 'b' / name, shallow=False)
    for i in range(3):
        name = f'val/{i:05d}.png'
        assert filecmp.cmp(tmp_path / 'a' / name, tmp_path / 'b' / name, shallow=False)
    test = json.load(open(b['test']))
    assert [im['file_name'] for im in test['images']] == [f'test/{i:05d}.png'
                                                          for i in range(4)]
    assert not any(filecmp.cmp(tmp_path / 'b' / f'test/{i:05d}.png',
                               tmp_path / 'b' / f'val/{i:05d}.png', shallow=False)
                   for i in range(4))
    with pytest.raises(ValueError, match='make_digits_detection: num_test'):
        make_digits_detection(str(tmp_path / 'c'), 1, 1, 64, num_test=-1)
