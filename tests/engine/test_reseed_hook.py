import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from kd_mmdet.engine.hooks import ReseedHook, reseed


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_same_step_same_numbers_whatever_came_before():
    """The draws after reseeding depend on (seed, step) only, not on earlier draws."""
    reseed(0, 1, 7)
    first = draws()
    torch.rand(1000), np.random.rand(1000), random.random()
    reseed(0, 1, 7)
    assert draws() == first


def test_steps_epochs_and_seeds_get_different_streams():
    """Neighbouring iterations, an epoch of the same index and another seed all differ."""
    seen = set()
    for args in [(0, 1, 7), (0, 1, 8), (0, 0, 7), (1, 1, 7), (1, 1, 6)]:
        reseed(*args)
        seen.add(draws())
    assert len(seen) == 5


def test_hook_reseeds_from_runner_seed_epoch_and_iteration():
    """before_train_epoch / before_train_iter use the Runner's seed unless given one."""
    runner = SimpleNamespace(seed=3, epoch=2, iter=17)
    ReseedHook().before_train_iter(runner, 0)
    from_hook = draws()
    reseed(3, 1, 17)
    assert draws() == from_hook
    ReseedHook(seed=5).before_train_epoch(runner)
    from_hook = draws()
    reseed(5, 0, 2)
    assert draws() == from_hook


@pytest.mark.parametrize('seed', [-1, 1.5, '0'])
def test_bad_seed_rejected(seed):
    with pytest.raises(ValueError, match='ReseedHook: seed must be an int >= 0 or None'):
        ReseedHook(seed=seed)


def test_built_from_registry_by_scoped_name():
    from mmengine.registry import HOOKS
    assert isinstance(HOOKS.build(dict(type='kd_mmdet.ReseedHook')), ReseedHook)
