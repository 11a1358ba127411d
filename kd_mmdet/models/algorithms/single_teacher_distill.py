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
- ``check_shapes``: at construction, one forward of student and teacher on a zero
  image (under no_grad, in eval mode, with the random state restored) checks that
  every loss declaring ``same_shape_inputs`` would receive tensors of one shape after
  the connectors, so a missing connector fails before training, not in iteration 1.
- ``save_teacher``: a frozen teacher loaded from ``teacher_ckpt`` is left out of the
  state dict, hence out of every checkpoint (a ResNet-101 teacher is as large again as
  a ResNet-50 student and its optimizer state together); loading a checkpoint without
  teacher keys keeps the teacher from ``teacher_ckpt``, so ``resume`` still works.
- ``teacher_forward``: how much of the frozen teacher runs in a training step. mmrazor
  always runs it in ``mode='loss'``: its head, target assignment and losses, under
  no_grad, for nothing when the losses only read the backbone or neck. With ``'auto'``
  (the default) a teacher whose recorders all record module inputs/outputs under
  ``backbone`` or ``neck`` runs ``extract_feat`` only: on the toy Faster R-CNN teacher
  (batch 8 of 128 px, one thread) 0.34 s instead of 1.06 s, on the toy GFL teacher 0.41 s
  instead of 0.46 s. Any other recorder (a head, a loss-time function, a method) keeps
  mmrazor's ``'loss'``.
- ``teacher_precision`` and ``teacher_channels_last``: the frozen teacher's forward runs
  under autocast of the input's device type (``'bf16'``, ``'fp16'`` on CUDA only) or
  with autocast off (``'fp32'``), optionally on channels_last tensors; its weights stay
  as loaded and everything its recorders hold reaches the losses in fp32
  (:mod:`kd_mmdet.models.utils.precision`). On this project's CPUs (AVX512-BF16) a bf16
  channels_last teacher runs 2.4× faster than in fp32; mmrazor always runs it in fp32.
"""
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint
from mmrazor.models.algorithms import SingleTeacherDistill as _RazorSingleTeacherDistill
from mmrazor.models.task_modules.recorder import ModuleInputsRecorder, ModuleOutputsRecorder
from mmrazor.models.utils import add_prefix
from torch import nn

from kd_mmdet.registry import MODELS
from ..utils.precision import check_precision, teacher_forward_context

#: ``teacher_forward`` values: ``extract_feat`` only, the model's own tensor-mode forward
#: (no losses), mmrazor's full loss-mode forward, or the cheapest that records the same.
TEACHER_FORWARDS = ('feat', 'tensor', 'loss', 'auto')
#: Modules ``extract_feat`` runs, in mmdet detectors and mmpretrain classifiers alike.
_FEAT_MODULES = ('backbone', 'neck')

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
    try:
        checkpoint = _load_checkpoint(filename, map_location='cpu')
    except pickle.UnpicklingError as e:  # kd_mmdet.compat.UnsafeCheckpointError
        raise type(e)(f'{owner}: teacher_ckpt: {e}') from None
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
        check_shapes: run the dry-forward shape check at construction (see the module
            docstring); False skips it.
        save_teacher: keep the teacher's weights in the state dict (and checkpoints).
            When False (the default) they are left out only if ``teacher_ckpt`` rebuilds
            them exactly: a ``teacher_ckpt`` is given, ``teacher_trainable`` is False and
            ``teacher_norm_eval`` is True (otherwise BN statistics move). Resuming then
            assumes the ``teacher_ckpt`` file has not changed.
        teacher_precision: the frozen teacher's forward precision: ``None`` (the
            default) follows the training step (fp32, or an AMP optim wrapper's
            autocast), ``'fp32'`` turns autocast off for the teacher, ``'bf16'`` and
            ``'fp16'`` (CUDA only) run it under autocast of the input's device type,
            ``'auto'`` picks the fastest the device has (bf16 on CUDA devices that
            support it and on CPUs with native bf16, fp16 on other CUDA devices, fp32
            elsewhere; :func:`kd_mmdet.models.utils.precision.fast_precision`).
        teacher_channels_last: keep the teacher's 4-d weights and give it its input in
            channels_last memory format (faster convolutions on CPUs and tensor cores).
        teacher_forward: ``'auto'``, ``'feat'`` (``teacher.extract_feat`` only),
            ``'tensor'`` (``mode='tensor'``: the forward without losses) or ``'loss'``
            (mmrazor's). ``'auto'`` picks ``'feat'`` when every teacher recorder records
            module inputs or outputs under ``backbone`` or ``neck`` and there is no
            delivery, else ``'loss'``. ``'feat'`` and ``'tensor'`` need a frozen teacher.
            In tensor mode mmdet's single-stage detectors call ``bbox_head.forward``
            directly, so a recorder on the head module itself records nothing there (its
            sub-modules, e.g. ``bbox_head.gfl_cls``, are recorded).
        **kwargs: everything mmrazor's ``SingleTeacherDistill`` takes.
    """

    def __init__(self, *args, teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True,
                 inherit_from_teacher: Sequence[str] = (), check_shapes: bool = True,
                 save_teacher: bool = False, teacher_forward: str = 'auto',
                 teacher_precision: Optional[str] = None,
                 teacher_channels_last: bool = False, **kwargs) -> None:
        super().__init__(*args, teacher_ckpt=None, **kwargs)
        self.teacher_forward = self._resolve_teacher_forward(teacher_forward)
        name = type(self).__name__
        check_precision(name, 'teacher_precision', teacher_precision)
        if self.teacher_trainable and (teacher_precision or teacher_channels_last):
            raise ValueError(f'{name}: teacher_precision and teacher_channels_last are for '
                             'a frozen teacher; a trainable teacher follows the optim '
                             'wrapper\'s precision')
        self.teacher_precision = teacher_precision
        self.teacher_channels_last = bool(teacher_channels_last)
        self._teacher_in_channels_last = False
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt, teacher_ckpt_strict,
                                    type(self).__name__)
            self.teacher._is_init = True
        self.teacher_ckpt = teacher_ckpt
        self.save_teacher = bool(save_teacher or not teacher_ckpt or self.teacher_trainable
                                 or not self.teacher_norm_eval)
        self._register_state_dict_hook(_drop_teacher_keys)
        self._register_load_state_dict_pre_hook(_fill_teacher_keys, with_module=True)
        self.inherit_from_teacher = tuple(inherit_from_teacher)
        for prefix in self.inherit_from_teacher:  # fail at build time, not after init
            for model in (self.teacher, self.student):
                try:
                    model.get_submodule(prefix)
                except AttributeError:
                    raise ValueError(
                        f'{type(self).__name__}: inherit_from_teacher names {prefix!r}, '
                        'which the teacher or the student does not have') from None
        if check_shapes:
            self.check_distill_shapes()

    def _resolve_teacher_forward(self, teacher_forward: str) -> str:
        """The teacher mode of a training step (see ``teacher_forward``)."""
        name = type(self).__name__
        if teacher_forward not in TEACHER_FORWARDS:
            raise ValueError(f'{name}: teacher_forward must be one of {TEACHER_FORWARDS}, '
                             f'got {teacher_forward!r}')
        if teacher_forward == 'loss':
            return 'loss'
        has_feat = callable(getattr(self.teacher, 'extract_feat', None))
        if teacher_forward == 'auto':
            recorders = list(self.distiller.teacher_recorders.recorders.values())
            feat_only = has_feat and recorders and not self.teacher_trainable and \
                not len(self.distiller.deliveries.deliveries) and all(
                    isinstance(r, (ModuleInputsRecorder, ModuleOutputsRecorder))
                    and r.source.split('.')[0] in _FEAT_MODULES for r in recorders)
            return 'feat' if feat_only else 'loss'
        if self.teacher_trainable:
            raise ValueError(f'{name}: teacher_forward={teacher_forward!r} computes no '
                             'teacher loss; a trainable teacher needs \'loss\'')
        if len(self.distiller.deliveries.deliveries):
            raise ValueError(f'{name}: teacher_forward={teacher_forward!r} does not run the '
                             'teacher\'s loss-time functions that deliveries record; use '
                             '\'loss\'')
        if teacher_forward == 'feat' and not has_feat:
            raise ValueError(f'{name}: teacher_forward=\'feat\' needs a teacher with '
                             f'extract_feat, got {type(self.teacher).__name__}')
        return teacher_forward

    def teacher_context(self, batch_inputs: torch.Tensor):
        """The frozen teacher's forward context: teacher recorders on, no_grad, the
        ``teacher_precision``'s autocast; yields the teacher's input (channels_last when
        asked) and casts what the recorders hold to fp32 on exit."""
        if self.teacher_channels_last and not self._teacher_in_channels_last:
            # At the first forward, not at construction: init_weights fills tensors in
            # memory order, so a channels_last teacher would be initialised differently.
            # Strides only: the state dict's values are kept (and moves between devices
            # preserve the format).
            self.teacher.to(memory_format=torch.channels_last)
            self._teacher_in_channels_last = True
        return teacher_forward_context(type(self).__name__, self.teacher_precision,
                                       self.teacher_channels_last,
                                       self.distiller.teacher_recorders, batch_inputs)

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List[Any]] = None) -> Dict[str, torch.Tensor]:
        """mmrazor's step, with the teacher run as ``teacher_forward`` and
        ``teacher_precision`` say."""
        losses = dict()
        deliveries = self.distiller.deliveries
        self.distiller.set_deliveries_override(False)  # deliveries record the teacher's
        if self.teacher_trainable:
            with self.distiller.teacher_recorders, deliveries:
                teacher_losses = self.teacher(batch_inputs, data_samples, mode='loss')
            losses.update(add_prefix(teacher_losses, 'teacher'))
        else:
            with self.teacher_context(batch_inputs) as inputs_T, deliveries:
                if self.teacher_forward == 'feat':
                    self.teacher.extract_feat(inputs_T)
                else:
                    self.teacher(inputs_T, data_samples, mode=self.teacher_forward)
        self.distiller.set_deliveries_override(True)  # ... and replace the student's
        with self.distiller.student_recorders, deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            elif self.student_trainable:
                self.student(batch_inputs, data_samples, mode='loss')
            else:
                with torch.no_grad():
                    self.student(batch_inputs, data_samples, mode='loss')
        if not self.distillation_stopped:
            losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses

    def check_distill_shapes(self) -> None:
        """Dry-run the student and the teacher and compare the recorded shapes.

        The input is one zero image of 64 px (rounded up to the data preprocessor's
        ``pad_size_divisor``) with the channels of its ``mean``; detectors get a data
        sample with the image meta only. The models run in ``mode='tensor'`` in eval
        mode under no_grad, so no BN statistic moves and no target is needed; the
        random state, train/eval modes and recorder buffers are restored afterwards.
        Losses whose inputs a tensor-mode forward does not record (e.g. ground truth)
        are listed in the log and left to their own checks at the first iteration; a
        model whose tensor mode fails is logged as unchecked.

        Raises:
            ValueError: from :meth:`ConfigurableDistiller.check_recorded_shapes`.
        """
        distiller = self.distiller
        check = getattr(distiller, 'check_recorded_shapes', None)
        losses = getattr(distiller, 'distill_losses', {})
        if check is None or not any(getattr(loss, 'same_shape_inputs', ())
                                    for loss in losses.values()):
            return
        name, logger = type(self).__name__, MMLogger.get_current_instance()
        inputs, data_samples = self._dry_run_inputs()
        modes = [(m, m.training) for m in self.modules()]
        managers = (distiller.student_recorders, distiller.teacher_recorders)
        try:
            nn.Module.train(self, False)
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                with managers[0], managers[1]:
                    for role, model in (('student', self.student),
                                        ('teacher', self.teacher)):
                        try:
                            model(inputs, data_samples, mode='tensor')
                        except Exception as e:  # the check must not block training
                            logger.warning(
                                f'{name}: shape check skipped: the {role} '
                                f'({type(model).__name__}) fails a tensor-mode forward '
                                f'of a {tuple(inputs.shape)} zero input ({e!r})')
                            return
                skipped = check(name, f'a dry forward of a {tuple(inputs.shape)} zero '
                                'input at construction (check_shapes=False skips it)')
        finally:
            for module, mode in modes:
                module.training = mode
            for manager in managers:
                for recorder in manager.recorders.values():
                    recorder.reset_data_buffer()
        logger.info(f'{name}: recorded shapes checked on a {tuple(inputs.shape)} zero '
                    'input' + (f'; not recorded without targets, so unchecked: '
                               f'{", ".join(skipped)}' if skipped else ''))

    def _dry_run_inputs(self) -> Tuple[torch.Tensor, Optional[List[Any]]]:
        """A zero batch of one image, and image-meta data samples for mmdet detectors."""
        prep = getattr(self.student, 'data_preprocessor', None)
        divisor = int(getattr(prep, 'pad_size_divisor', 1) or 1)
        size = -(-64 // divisor) * divisor
        mean = getattr(prep, 'mean', None)
        channels = mean.numel() if isinstance(mean, torch.Tensor) else 3
        device = next(self.student.parameters()).device
        inputs = torch.zeros(1, channels, size, size, device=device)
        data_samples = None
        try:
            from mmdet.models.detectors import BaseDetector
            from mmdet.structures import DetDataSample
        except ImportError:
            return inputs, data_samples
        if isinstance(self.student, BaseDetector):
            shape = (size, size)
            data_samples = [DetDataSample(metainfo=dict(
                img_shape=shape, ori_shape=shape, pad_shape=shape, batch_input_shape=shape,
                scale_factor=(1.0, 1.0)))]
        return inputs, data_samples

    def init_weights(self) -> None:
        super().init_weights()
        if self.inherit_from_teacher:
            copied, skipped = inherit_weights(self.student, self.teacher,
                                              self.inherit_from_teacher, type(self).__name__)
            MMLogger.get_current_instance().info(
                f'{type(self).__name__}: inherited {len(copied)} tensors from the teacher '
                f'({", ".join(self.inherit_from_teacher)}); {len(skipped)} kept their '
                f'init for shape mismatch')


def _drop_teacher_keys(module: SingleTeacherDistill, state_dict: Dict[str, Any],
                       prefix: str, local_metadata: Dict) -> None:
    """State-dict hook: leave out ``teacher.*`` unless the teacher must be saved."""
    if module.save_teacher:
        return
    teacher = prefix + 'teacher.'
    for key in [k for k in state_dict if k.startswith(teacher)]:
        del state_dict[key]
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        for key in [k for k in metadata if (k + '.').startswith(teacher)]:
            del metadata[key]


def _fill_teacher_keys(module: SingleTeacherDistill, state_dict: Dict[str, Any],
                       prefix: str, *args) -> None:
    """Load pre-hook: a state dict without any ``teacher.*`` key (one saved with
    ``save_teacher=False``) gets the current teacher's, which ``teacher_ckpt`` set.
    Without a ``teacher_ckpt`` the keys stay missing and the loader reports them."""
    teacher = prefix + 'teacher.'
    if not module.teacher_ckpt or any(k.startswith(teacher) for k in state_dict):
        return
    for key, value in module.teacher.state_dict().items():
        state_dict[teacher + key] = value
    MMLogger.get_current_instance().info(
        f'{type(module).__name__}: the loaded state dict has no teacher weights; the '
        f'teacher keeps those of teacher_ckpt {module.teacher_ckpt!r}')
