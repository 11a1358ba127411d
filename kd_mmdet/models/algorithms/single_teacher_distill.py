"""mmrazor's SingleTeacherDistill with a strictly checked teacher and teacher inheritance.

Differences from ``mmrazor.SingleTeacherDistill`` (all other arguments are the same):

- ``teacher_ckpt`` is loaded strictly before training starts. mmrazor loads it with
  ``strict=False``, so a checkpoint of another model, or a distillation checkpoint whose
  keys are prefixed ``architecture.`` (open-mmlab/mmrazor#650), only logs a warning and
  training goes on with a teacher that is partly random. Here it raises, naming the
  keys; a missing local file raises too.
- ``inherit_from_teacher``: start the student's modules (e.g. ``neck``, ``bbox_head``)
  from the teacher's weights wherever names and shapes match, as FGD's official configs
  do ("inherit" initialisation, Yang et al. CVPR 2022). It runs in ``init_weights``,
  so ``load_from`` and ``resume`` still take precedence.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint
from mmrazor.models.algorithms import SingleTeacherDistill as _RazorSingleTeacherDistill
from torch import nn

from kd_mmdet.registry import MODELS

_URL_PREFIXES = ('http://', 'https://', 's3://', 'pavi://', 'open-mmlab://',
                 'torchvision://', 'openmmlab://', 'mmcls://', 'modelzoo://')


def _examples(keys: Sequence[str], n: int = 5) -> str:
    keys = list(keys)
    more = f', … ({len(keys)} in all)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def checkpoint_mismatch(model: nn.Module, state_dict: Dict[str, torch.Tensor]
                        ) -> Tuple[List[str], List[str], List[str]]:
    """Keys the model has but the checkpoint lacks, the reverse, and shape mismatches."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}'
              for k, v in own.items() if k in state_dict and state_dict[k].shape != v.shape]
    return missing, unexpected, shapes


def load_teacher_checkpoint(teacher: nn.Module, filename: str, strict: bool = True,
                            owner: str = 'SingleTeacherDistill') -> None:
    """Load ``filename`` into ``teacher``; with ``strict``, any mismatch raises.

    Raises:
        FileNotFoundError: a local path that does not exist.
        ValueError: the checkpoint's keys or shapes do not match the teacher.
    """
    if not filename.startswith(_URL_PREFIXES) and not osp.isfile(filename):
        raise FileNotFoundError(f'{owner}: teacher_ckpt {filename!r} does not exist')
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = {k[len('module.'):] if k.startswith('module.') else k: v
                  for k, v in state_dict.items()}
    missing, unexpected, shapes = checkpoint_mismatch(teacher, state_dict)
    if strict and (missing or unexpected or shapes):
        parts = [f'{owner}: teacher_ckpt {filename!r} does not match the teacher model']
        if missing:
            parts.append(f'{len(missing)} missing keys ({_examples(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys ({_examples(unexpected)})')
        if shapes:
            parts.append(f'{len(shapes)} shape mismatches ({_examples(shapes, 3)})')
        if any(k.startswith('architecture.') for k in unexpected):
            parts.append('keys prefixed "architecture." come from a distillation run: '
                         'export its student first (tools/export_student.py)')
        raise ValueError('; '.join(parts))
    teacher.load_state_dict(state_dict, strict=False)
    MMLogger.get_current_instance().info(
        f'{owner}: loaded teacher_ckpt {filename} ({len(state_dict)} tensors)')


def inherit_weights(student: nn.Module, teacher: nn.Module, prefixes: Sequence[str],
                    owner: str = 'SingleTeacherDistill') -> Tuple[List[str], List[str]]:
    """Copy teacher tensors into the student under ``prefixes`` where shapes match.

    Returns:
        ``(copied, skipped)`` tensor names (``prefix.name``).
    """
    copied, skipped = [], []
    for prefix in prefixes:
        try:
            src, dst = teacher.get_submodule(prefix), student.get_submodule(prefix)
        except AttributeError:
            raise ValueError(f'{owner}: inherit_from_teacher names {prefix!r}, which the '
                             'teacher or the student does not have') from None
        target = dst.state_dict()
        for name, value in src.state_dict().items():
            if name in target and target[name].shape == value.shape:
                target[name].copy_(value)
                copied.append(f'{prefix}.{name}')
            else:
                skipped.append(f'{prefix}.{name}')
    return copied, skipped


@MODELS.register_module()
class SingleTeacherDistill(_RazorSingleTeacherDistill):
    """One teacher, one student, losses from a distiller (see the module docstring).

    Args:
        teacher_ckpt: path or URL of the teacher's weights, loaded at construction.
        teacher_ckpt_strict: raise when the checkpoint does not fit the teacher exactly.
        inherit_from_teacher: student module names to start from the teacher's weights
            (e.g. ``('neck', 'bbox_head')``); tensors of other shapes keep their init.
        **kwargs: everything mmrazor's ``SingleTeacherDistill`` takes.
    """

    def __init__(self, *args, teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True,
                 inherit_from_teacher: Sequence[str] = (), **kwargs) -> None:
        super().__init__(*args, teacher_ckpt=None, **kwargs)
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt, teacher_ckpt_strict,
                                    type(self).__name__)
            self.teacher._is_init = True
        self.inherit_from_teacher = tuple(inherit_from_teacher)
        for prefix in self.inherit_from_teacher:  # fail at build time, not after init
            for model in (self.teacher, self.student):
                try:
                    model.get_submodule(prefix)
                except AttributeError:
                    raise ValueError(
                        f'{type(self).__name__}: inherit_from_teacher names {prefix!r}, '
                        'which the teacher or the student does not have') from None

    def init_weights(self) -> None:
        super().init_weights()
        if self.inherit_from_teacher:
            copied, skipped = inherit_weights(self.student, self.teacher,
                                              self.inherit_from_teacher, type(self).__name__)
            MMLogger.get_current_instance().info(
                f'{type(self).__name__}: inherited {len(copied)} tensors from the teacher '
                f'({", ".join(self.inherit_from_teacher)}); {len(skipped)} kept their '
                f'init for shape mismatch')
