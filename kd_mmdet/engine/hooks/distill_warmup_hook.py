"""Linear warm-up of every distillation loss weight.

DKD (Zhao et al., "Decoupled Knowledge Distillation", CVPR 2022, sec. 4) multiplies
its loss by ``min(epoch / warmup, 1)`` (20 epochs on CIFAR-100) because the distillation
gradient of an untrained student overwhelms the task loss at the start; the same
schedule helps feature losses with large initial values. Usable by every method that
runs through ``kd_mmdet.ConfigurableDistiller``.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from kd_mmdet.registry import HOOKS


def warmup_factor(progress: int, warmup: int) -> float:
    """``min(progress / warmup, 1)`` with ``progress`` counted from 1."""
    return min(progress / warmup, 1.0)


@HOOKS.register_module()
class DistillLossWarmupHook(Hook):
    """Scale all distillation losses by ``min(t / warmup, 1)`` during training.

    Args:
        warmup_epochs: warm-up length in epochs; ``t`` is the 1-based epoch, as in the
            official DKD code (the first epoch trains at ``1 / warmup_epochs``).
        warmup_iters: warm-up length in iterations instead (``t`` = 1-based iteration).
            Give exactly one of the two.
    """

    priority = 'NORMAL'

    def __init__(self, warmup_epochs: Optional[int] = None,
                 warmup_iters: Optional[int] = None) -> None:
        if (warmup_epochs is None) == (warmup_iters is None):
            raise ValueError('DistillLossWarmupHook: give exactly one of warmup_epochs and '
                             f'warmup_iters, got {warmup_epochs!r} and {warmup_iters!r}')
        length = warmup_epochs if warmup_epochs is not None else warmup_iters
        if not isinstance(length, int) or length < 1:
            raise ValueError(f'DistillLossWarmupHook: warm-up length must be an int >= 1, '
                             f'got {length!r}')
        self.warmup_epochs = warmup_epochs
        self.warmup_iters = warmup_iters

    @staticmethod
    def _distiller(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        distiller = getattr(model, 'distiller', None)
        if distiller is None or not hasattr(distiller, 'loss_scale'):
            raise TypeError('DistillLossWarmupHook: the model needs a distiller of type '
                            f"'kd_mmdet.ConfigurableDistiller', got {type(distiller).__name__}")
        return distiller

    def before_train(self, runner) -> None:
        self._distiller(runner)  # fail before the first iteration, not in it

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.warmup_epochs is not None:
            factor = warmup_factor(runner.epoch + 1, self.warmup_epochs)
        else:
            factor = warmup_factor(runner.iter + 1, self.warmup_iters)
        self._distiller(runner).loss_scale = factor
        runner.message_hub.update_scalar('train/distill_loss_scale', factor)
