"""Random numbers that depend on (seed, epoch, iteration) only, so that a resumed run
draws what the uninterrupted run drew.

mmengine 0.10.7's ``Runner.resume`` restores weights, optimizer, schedulers and the
logged history, but not the random number generators: they are seeded at start-up, so
after resuming from the checkpoint of epoch k, training draws different random numbers
in epoch k + 1 than the uninterrupted run did — MGD's masks (Yang et al., ECCV 2022),
RoI samplers, dropout, random augmentation in the main process. The runs then diverge:
on the toy GFL pair with MGD, one resumed epoch of two iterations already leaves a
weight difference of 7.8e-5 and different logged losses. Saving the generator states in
the checkpoint would not be enough: the checkpoint is written before the epoch's
validation, whose data loader draws a seed of its own.

:class:`ReseedHook` re-seeds Python's, NumPy's and torch's generators before every
training epoch from (seed, epoch) and before every training iteration from (seed,
iteration). Resuming at an epoch boundary is then exact. Data-loader workers are seeded
by mmengine's ``worker_init_fn`` from the seed alone; with ``persistent_workers=True``
their generators carry on across epochs, which a resumed run cannot reproduce, so use
non-persistent workers (or no random augmentation) when resumes must be exact.
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook

from kd_mmdet.registry import HOOKS

_EPOCH, _ITER = 0, 1


def reseed(seed: int, kind: int, step: int) -> int:
    """Seed ``random``, ``numpy`` and ``torch`` (all devices) from ``(seed, kind, step)``.

    The three numbers are mixed by NumPy's ``SeedSequence``, so neighbouring steps and
    seeds get unrelated streams. Returns the 32-bit seed used.
    """
    value = int(np.random.SeedSequence([seed, kind, step]).generate_state(1)[0])
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    return value


@HOOKS.register_module()
class ReseedHook(Hook):
    """Re-seed before every training epoch and iteration (see the module docstring).

    Add it with ``custom_hooks = [dict(type='kd_mmdet.ReseedHook')]``.

    Args:
        seed: base seed; default the Runner's (``randomness.seed``, which includes the
            rank when ``diff_rank_seed=True``).
    """

    priority = 'VERY_HIGH'  # before any other hook draws a random number

    def __init__(self, seed: Optional[int] = None) -> None:
        if seed is not None and (not isinstance(seed, int) or seed < 0):
            raise ValueError(f'ReseedHook: seed must be an int >= 0 or None, got {seed!r}')
        self.seed = seed

    def _base(self, runner) -> int:
        return self.seed if self.seed is not None else int(runner.seed)

    def before_train_epoch(self, runner) -> None:
        reseed(self._base(runner), _EPOCH, runner.epoch)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        reseed(self._base(runner), _ITER, runner.iter)
