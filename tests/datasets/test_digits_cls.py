import filecmp
import glob
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from kd_mmdet.datasets.digits_cls import make_digits_classification
from kd_mmdet.datasets.digits_det import load_digit_scans


@pytest.fixture(scope='module')
def digits(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('c'))
    return root, make_digits_classification(root, num_train=60, num_val=20, seed=3)


def test_counts_and_folder_layout(digits):
    """One folder per class; the requested number of 32x32 RGB images per split."""
    root, counts = digits
    assert counts == {'train': 60, 'val': 20}
    for split, n in counts.items():
        files = glob.glob(osp.join(root, split, '*', '*.png'))
        assert len(files) == n
        assert sorted(osp.basename(osp.dirname(f)) for f in files)[0] in '0123456789'
        img = np.asarray(Image.open(files[0]))
        assert img.shape == (32, 32, 3) and img.dtype == np.uint8


def test_mmpretrain_reads_it_unchanged(digits):
    """mmpretrain's CustomDataset finds 10 classes and labels each image by its folder."""
    from mmpretrain.datasets import CustomDataset
    root, _ = digits
    ds = CustomDataset(data_root=root, data_prefix='train', pipeline=[])
    assert len(ds) == 60 and ds.CLASSES == tuple(str(i) for i in range(10))
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert ds.CLASSES[info['gt_label']] == osp.basename(osp.dirname(info['img_path']))


def test_same_seed_same_bytes_other_seed_differs(digits, tmp_path):
    """Equal seeds write byte-equal files; another seed writes other images."""
    root, _ = digits
    make_digits_classification(str(tmp_path / 'a'), num_train=60, num_val=20, seed=3)
    make_digits_classification(str(tmp_path / 'b'), num_train=60, num_val=20, seed=4)
    same = filecmp.dircmp(osp.join(root, 'val', '0'), str(tmp_path / 'a' / 'val' / '0'))
    assert same.left_list and not same.diff_files and not same.left_only
    first = sorted(glob.glob(osp.join(root, 'train', '*', '*.png')))[0]
    other = glob.glob(str(tmp_path / 'b' / 'train' / '*' / osp.basename(first)))
    assert not other or not filecmp.cmp(first, other[0], shallow=False)


def test_all_classes_present_and_roughly_balanced(tmp_path):
    """Every class occurs; the scan pool is cycled, so class counts follow its balance."""
    make_digits_classification(str(tmp_path), num_train=400, num_val=100, seed=0)
    counts = [len(glob.glob(str(tmp_path / 'train' / str(c) / '*.png'))) for c in range(10)]
    assert min(counts) >= 25 and sum(counts) == 400


def test_train_and_val_handwriting_is_disjoint():
    """The scan pools of the two splits share no scan."""
    pools = load_digit_scans(0)
    train = {s.tobytes() for s in pools['train'][0]}
    assert not any(s.tobytes() in train for s in pools['val'][0])


def test_small_image_size_rejected(tmp_path):
    """img_size below 16 px fails with the function named."""
    with pytest.raises(ValueError, match='make_digits_classification: img_size'):
        make_digits_classification(str(tmp_path), 2, 2, img_size=8)


def test_a_test_split_pastes_the_test_pool_and_leaves_train_and_val_unchanged(
        monkeypatch, tmp_path):
    """With num_test, the test images render scans of the test pool only, and the train
    and val images are byte-equal to those of a set without a test split."""
    from kd_mmdet.datasets import digits_cls
    pools = load_digit_scans(0)
    seen = []
    real = digits_cls.render_digit

    def spy(rng, scans, labels, index, size):
        seen.append(scans)
        return real(rng, scans, labels, index, size)

    monkeypatch.setattr(digits_cls, 'render_digit', spy)
    counts = make_digits_classification(str(tmp_path / 'a'), 20, 10, seed=0, num_test=10)
    assert counts == dict(train=20, val=10, test=10)
    assert all(np.array_equal(scans, pools['test'].images) for scans in seen[-10:])
    make_digits_classification(str(tmp_path / 'b'), 20, 10, seed=0)
    for split in ('train', 'val'):
        for f in glob.glob(str(tmp_path / 'b' / split / '*' / '*.png')):
            other = f.replace(str(tmp_path / 'b'), str(tmp_path / 'a'))
            assert filecmp.cmp(f, other, shallow=False)
