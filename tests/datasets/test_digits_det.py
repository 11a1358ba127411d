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


def test_three_pools_of_handwriting_are_disjoint():
    """No source index is in two pools, together they use all 1,797 scans, and each
    pool's images and labels are load_digits' at its indices."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    pools = load_digit_scans(seed=0)
    sources = [set(pools[s].source.tolist()) for s in ('train', 'val', 'test')]
    assert sum(len(s) for s in sources) == 1797 == len(set().union(*sources))
    assert [len(s) for s in sources] == [1079, 359, 359]
    for pool in pools.values():
        np.testing.assert_array_equal(pool.labels, digits.target[pool.source])
        np.testing.assert_allclose(pool.images, digits.images[pool.source] / 16.0)


def test_every_annotation_names_a_scan_of_its_own_pool(tmp_path):
    """``source`` of every annotation is a load_digits index of its split's pool, with
    that scan's label: disjointness is checkable from the annotation files alone."""
    from sklearn.datasets import load_digits
    target = load_digits().target
    paths = make_digits_detection(str(tmp_path), 12, 6, 64, seed=3, num_test=6)
    pools = load_digit_scans(seed=3)
    used = {}
    for split, path in paths.items():
        with open(path) as f:
            anns = json.load(f)['annotations']
        assert anns and all('source' in a for a in anns)
        used[split] = {a['source'] for a in anns}
        assert used[split] <= set(pools[split].source.tolist())
        assert all(target[a['source']] + 1 == a['category_id'] for a in anns)
    assert not used['train'] & used['val'] and not used['train'] & used['test']
    assert not used['val'] & used['test']


def test_bad_pool_fractions_name_the_function():
    with pytest.raises(ValueError, match='load_digit_scans: val_fraction'):
        load_digit_scans(0, val_fraction=0.5, test_fraction=0.5)


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
