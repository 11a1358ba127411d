"""Argument and shape checks shared by every kd_mmdet loss and connector.

Each error names the component, the argument and the offending values, so that a bad
config fails when it is built and a wrong pairing fails at the first forward.
"""
import math
from typing import Optional, Tuple

from torch import Tensor


def _name(owner) -> str:
    return owner if isinstance(owner, str) else type(owner).__name__


def check_positive(owner, arg: str, value: float, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0 (>= 0 if allowed)."""
    ok = isinstance(value, (int, float)) and math.isfinite(value) and (
        value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = '>= 0' if allow_zero else '> 0'
        raise ValueError(f'{_name(owner)}: {arg} must be a finite number {bound}, '
                         f'got {value!r}')


def check_reduction(owner, reduction: str, allowed: Tuple[str, ...]) -> None:
    """Raise ``ValueError`` unless ``reduction`` is one of ``allowed``."""
    if reduction not in allowed:
        raise ValueError(f'{_name(owner)}: reduction must be one of {allowed}, '
                         f'got {reduction!r}')


def describe(value) -> str:
    """A shape, or what a non-tensor is: ``(2, 64, 8, 8)``, ``tuple of 5 tensors``."""
    if isinstance(value, Tensor):
        return str(tuple(value.shape))
    if isinstance(value, (list, tuple)):
        kind = 'tensors' if all(isinstance(v, Tensor) for v in value) else 'items'
        return f'{type(value).__name__} of {len(value)} {kind}'
    return type(value).__name__


def check_same_shape(owner, preds_S: Tensor, preds_T: Tensor,
                     ndim: Optional[int] = None) -> None:
    """Raise ``ValueError`` unless student and teacher tensors have one shape."""
    if not isinstance(preds_S, Tensor) or not isinstance(preds_T, Tensor):
        raise ValueError(f'{_name(owner)}: expected a student and a teacher tensor, got '
                         f'{describe(preds_S)} and {describe(preds_T)} — a recorder of a '
                         'module with several outputs needs data_idx')
    if ndim is not None and preds_S.dim() != ndim:
        raise ValueError(f'{_name(owner)}: expected {ndim}-d student input, got shape '
                         f'{tuple(preds_S.shape)}')
    if preds_S.shape != preds_T.shape:
        hint = ''
        if preds_S.dim() == 4 and preds_S.shape[1] != preds_T.shape[1]:
            hint = ' — add a connector that maps the student channels to the teacher\'s'
        raise ValueError(f'{_name(owner)}: student {tuple(preds_S.shape)} vs teacher '
                         f'{tuple(preds_T.shape)}{hint}')


def check_labels(owner, preds_S: Tensor, gt_labels: Tensor) -> None:
    """Raise ``ValueError`` unless ``gt_labels`` holds one class index in [0, C) per row of
    the (N, C) logits ``preds_S``."""
    N, C = preds_S.shape
    if gt_labels.is_floating_point() or gt_labels.is_complex() or gt_labels.numel() != N:
        raise ValueError(f'{_name(owner)}: gt_labels must be an integer tensor with one label '
                         f'per row of the logits {tuple(preds_S.shape)}, got '
                         f'{gt_labels.dtype} of shape {tuple(gt_labels.shape)}')
    if N and (gt_labels.min() < 0 or gt_labels.max() >= C):
        raise ValueError(f'{_name(owner)}: gt_labels must lie in [0, {C}) for logits '
                         f'{tuple(preds_S.shape)}, got range [{int(gt_labels.min())}, '
                         f'{int(gt_labels.max())}]')
