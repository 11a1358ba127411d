import os
import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import kd_mmdet  # noqa: E402,F401  registers components and applies compat fixes

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope='session')
def tiny_digits(tmp_path_factory):
    """A 24-train / 8-val image digits set of 96 px, shared by the end-to-end tests."""
    from kd_mmdet.datasets import make_digits_detection
    root = tmp_path_factory.mktemp('digits')
    make_digits_detection(str(root), num_train=24, num_val=8, img_size=96, seed=0)
    return str(root)


@pytest.fixture(autouse=True)
def restore_default_scope():
    """Undo mmengine default scopes a test creates (``init_default_scope('mmdet')`` would
    otherwise send later registry builds of mmrazor components to mmdet's registry)."""
    from mmengine.registry import DefaultScope
    before = set(DefaultScope._instance_dict)
    yield
    for name in [n for n in DefaultScope._instance_dict if n not in before]:
        DefaultScope._instance_dict.pop(name)
