"""Distillation of two-stage detectors on the student's own RoIs.

For RoI-level logit distillation (DKD on Faster R-CNN, Zhao et al., "Decoupled Knowledge
Distillation", CVPR 2022, https://arxiv.org/abs/2203.08679, sec. 4.3 and the official
detection code), the teacher and the student must classify the *same* RoIs: the teacher's
RoI head runs on the proposals the student's RPN produced and its sampler kept. A loss
alone cannot do this (it needs the student's RoIs inside the teacher's forward), hence
this algorithm. It changes only how the teacher runs:

1. the student runs its normal ``loss`` (RPN, sampler, RoI head) under the student
   recorders, and the RoIs entering its ``bbox_roi_extractor`` are kept;
2. the teacher, under no_grad and the teacher recorders, extracts its features and runs
   its RoI head on those RoIs — nothing else (no teacher RPN, no teacher losses, which
   also makes a step cheaper than mmrazor's ``SingleTeacherDistill``, where the teacher
   computes its full training loss), in ``teacher_precision`` and channels_last if asked.

Which tensors the losses compare stays in the config: e.g. a ``ModuleOutputs`` recorder on
``roi_head.bbox_head`` of both models (class logits, ``data_idx=0``) and a
``MethodOutputs`` recorder on the student's ``BBoxHead.get_targets`` (sampled labels,
background = ``num_classes``, ``data_idx=0``). Teacher recorders on the neck or backbone
work as usual, so RoI-level DKD combines with feature methods (DKD + ReviewKD).
"""
from typing import List, Optional

import torch
from mmengine.structures import BaseDataElement
from mmrazor.models.utils import add_prefix
from torch import Tensor

from kd_mmdet.models.algorithms.single_teacher_distill import SingleTeacherDistill
from kd_mmdet.registry import MODELS


@MODELS.register_module()
class RoIHeadDistill(SingleTeacherDistill):
    """``kd_mmdet.SingleTeacherDistill`` whose teacher classifies the student's RoIs.

    Both student and teacher must be two-stage detectors with a ``roi_head`` that has a
    ``bbox_roi_extractor`` and ``_bbox_forward(x, rois)`` (mmdet's ``StandardRoIHead``
    and its subclasses). The teacher is frozen (``teacher_trainable`` must stay False)
    and mmrazor deliveries are not supported (they assume the teacher runs first).

    Args:
        **kwargs: everything ``kd_mmdet.SingleTeacherDistill`` takes.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        name = type(self).__name__
        if self.teacher_trainable:
            raise ValueError(f'{name}: teacher_trainable=True is not supported; the '
                             'teacher only classifies the student\'s RoIs')
        if len(self.distiller.deliveries.deliveries):
            raise ValueError(f'{name}: distiller deliveries are not supported (the student '
                             'runs before the teacher here)')
        for role, model in (('student', self.student), ('teacher', self.teacher)):
            roi_head = getattr(model, 'roi_head', None)
            if roi_head is None or not hasattr(roi_head, 'bbox_roi_extractor') or \
                    not hasattr(roi_head, '_bbox_forward'):
                raise ValueError(f'{name}: the {role} ({type(model).__name__}) has no '
                                 'roi_head with bbox_roi_extractor and _bbox_forward; '
                                 'use a two-stage detector such as FasterRCNN')
        self._student_rois: List[Tensor] = []
        self.student.roi_head.bbox_roi_extractor.register_forward_pre_hook(self._keep_rois)

    def _keep_rois(self, module, args) -> None:
        """Forward pre-hook: ``bbox_roi_extractor(feats, rois)`` — keep ``rois``."""
        if self.training:
            self._student_rois.append(args[1].detach())

    def loss(self, batch_inputs: Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> dict:
        """Student loss, then the teacher's RoI head on the student's sampled RoIs."""
        losses = dict()
        self._student_rois = []
        if self.calculate_student_loss:
            with self.distiller.student_recorders:
                student_losses = self.student(batch_inputs, data_samples, mode='loss')
            losses.update(add_prefix(student_losses, 'student'))
        else:
            with self.distiller.student_recorders, torch.no_grad():
                self.student(batch_inputs, data_samples, mode='loss')
        if len(self._student_rois) != 1:
            raise RuntimeError(
                f'{type(self).__name__}: expected the student\'s bbox_roi_extractor to run '
                f'once per training step, it ran {len(self._student_rois)} times')
        rois = self._student_rois.pop()

        with self.teacher_context(batch_inputs) as inputs_T:
            feats_T = self.teacher.extract_feat(inputs_T)
            self.teacher.roi_head._bbox_forward(feats_T, rois)

        if not self.distillation_stopped:
            losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses
