"""BLD — Yu et al., "Decoupling Dark Knowledge via Block-wise Logit Distillation for
Feature-level Alignment", IEEE Transactions on Artificial Intelligence 2024.
https://arxiv.org/abs/2411.01547

Block-wise logit distillation builds *stepping-stone* models between student and
teacher: for a stage ``i`` of the student,

    N_i = (teacher stages after i) ∘ C_i ∘ (student stem and stages ≤ i),

with ``C_i`` a connector to the teacher's channels. Every N_i yields logits through the
teacher's frozen later stages and head, so its logit losses train the student's early
stages (and ``C_i``) in the teacher's feature space: feature alignment through logits.
With Y_S the student's logits, Y_T the teacher's, Y_{N_i} the stepping stones' and
Y_ens their mean,

    L = α · L_task + β · L_distill + γ · L_cross,
    L_task    = CE(Y_S, y) + Σ_i CE(Y_{N_i}, y),
    L_distill = KD(Y_S, Y_T) + Σ_i KD(Y_{N_i}, Y_T),
    L_cross   = KD(Y_S, Y_ens) + Σ_i KD(Y_{N_i}, Y_ens).

The paper has no public code; choices made here, each an argument: ``KD`` is
:func:`kd_loss` (KL · T²); the ensemble is a target (``detach_ensemble=True``, as in
online distillation, e.g. ONE, Lan et al. NeurIPS 2018), so L_cross does not pull the
stepping stones towards the student. The teacher's parameters stay frozen (its BatchNorm
in eval mode); gradients pass *through* its later stages into ``C_i`` and the student.
Only the student is kept: the connectors are ``connectors.*`` keys, dropped by
``tools/export_student.py`` with the teacher.

``teacher_precision`` / ``teacher_channels_last`` apply to the teacher's own forward
(Y_T, under no_grad). The stepping stones run the teacher's later stages *with* gradients
into the student: they are part of the student's step and follow its precision (fp32, or
the AMP optim wrapper's autocast).
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.models.backbones import ResNet, ResNet_CIFAR
from torch import Tensor, nn

from kd_mmdet.models.common.checks import check_positive
from kd_mmdet.registry import MODELS

from ..losses.kd_loss import kd_loss
from .single_teacher_distill import SingleTeacherDistill


def resnet_stem(backbone: nn.Module, x: Tensor) -> Tensor:
    """The part of an mmpretrain ResNet before its first stage (``layer1``)."""
    if not isinstance(backbone, ResNet):
        raise TypeError('BlockwiseLogitDistill: backbones must be mmpretrain ResNets '
                        f'(ResNet, ResNet_CIFAR, kd_mmdet.CifarResNet), got '
                        f'{type(backbone).__name__}')
    if getattr(backbone, 'deep_stem', False):
        x = backbone.stem(x)
    else:
        x = backbone.relu(backbone.norm1(backbone.conv1(x)))
    if not isinstance(backbone, ResNet_CIFAR):  # CIFAR stems have no max-pooling
        x = backbone.maxpool(x)
    return x


def resnet_stages(backbone: nn.Module) -> List[nn.Module]:
    """The stages ``layer1 … layerK`` of an mmpretrain ResNet, in order."""
    return [getattr(backbone, name) for name in backbone.res_layers]


def classifier_logits(model: nn.Module, feature: Tensor) -> Tensor:
    """Logits of an mmpretrain ``ImageClassifier`` from its last stage's feature map."""
    feats = (feature, )
    if getattr(model, 'with_neck', False):
        feats = model.neck(feats)
    return model.head(feats)


@MODELS.register_module()
class BlockwiseLogitDistill(SingleTeacherDistill):
    """Block-wise logit distillation with stepping-stone models (see the module docstring).

    Teacher and student are mmpretrain ``ImageClassifier`` s with ResNet-family
    backbones (stages ``layer1…``) returning their last stage only.

    Args:
        stages: student stages ``i`` (0-based) that get a stepping stone; the teacher
            continues from its stage ``i + 1``. E.g. ``(0, 1)`` for three-stage CIFAR
            ResNets, ``(0, 1, 2)`` for four-stage ImageNet ResNets.
        connectors: one config per stage (``C_i``: student channels → teacher channels,
            e.g. ``mmrazor.ConvModuleConnector``: 1×1 conv, BN, ReLU), same order as
            ``stages``.
        task_weight: α, weight of the task cross-entropies.
        distill_weight: β, weight of the KD terms to the teacher.
        cross_weight: γ, weight of the KD terms to the stepping-stone ensemble.
        temperature: KD temperature of every distillation term.
        detach_ensemble: treat the ensemble mean as a fixed target.
        distiller: as for ``SingleTeacherDistill``; may add recorder-based losses (the
            default distills nothing beyond the terms above).
        **kwargs: the rest of ``kd_mmdet.SingleTeacherDistill`` (``architecture``,
            ``teacher``, ``teacher_ckpt``, …).
    """

    def __init__(self, stages: Sequence[int], connectors: Sequence[Dict],
                 task_weight: float = 1.0, distill_weight: float = 1.0,
                 cross_weight: float = 1.0, temperature: float = 4.0,
                 detach_ensemble: bool = True, distiller: Optional[Dict] = None,
                 **kwargs) -> None:
        distiller = distiller or dict(type='kd_mmdet.ConfigurableDistiller')
        super().__init__(distiller=distiller, **kwargs)
        for arg, value in (('task_weight', task_weight), ('distill_weight', distill_weight),
                           ('cross_weight', cross_weight)):
            check_positive(self, arg, value, allow_zero=True)
        check_positive(self, 'temperature', temperature)
        num_s = len(resnet_stages(self.student.backbone))
        num_t = len(resnet_stages(self.teacher.backbone))
        stages = tuple(stages)
        if not stages or any(not isinstance(i, int) or not 0 <= i < min(num_s, num_t)
                             for i in stages) or len(set(stages)) != len(stages):
            raise ValueError(f'BlockwiseLogitDistill: stages must be distinct stage indices '
                             f'in [0, {min(num_s, num_t)}) (student has {num_s} stages, '
                             f'teacher {num_t}), got {stages!r}')
        if len(connectors) != len(stages):
            raise ValueError(f'BlockwiseLogitDistill: one connector per stage, got '
                             f'{len(connectors)} connectors for stages {stages}')
        self.stages = stages
        self.connectors = nn.ModuleList(MODELS.build(cfg) for cfg in connectors)
        self.task_weight = float(task_weight)
        self.distill_weight = float(distill_weight)
        self.cross_weight = float(cross_weight)
        self.temperature = float(temperature)
        self.detach_ensemble = detach_ensemble

    def student_forward(self, x: Tensor) -> tuple[Tensor, List[Tensor]]:
        """The student's logits (N, C) and the output of each of its stages."""
        backbone = self.student.backbone
        feats, out = [], resnet_stem(backbone, x)
        for stage in resnet_stages(backbone):
            out = stage(out)
            feats.append(out)
        return classifier_logits(self.student, out), feats

    def stepping_stone_logits(self, student_feats: Sequence[Tensor]) -> List[Tensor]:
        """Logits of every N_i: ``C_i`` on student stage ``i``, then the teacher's later
        stages, neck and head. Gradients flow into ``C_i`` and the student, the teacher's
        parameters are frozen."""
        teacher_stages = resnet_stages(self.teacher.backbone)
        logits = []
        for i, connector in zip(self.stages, self.connectors):
            out = connector(student_feats[i])
            for stage in teacher_stages[i + 1:]:
                out = stage(out)
            logits.append(classifier_logits(self.teacher, out))
        return logits

    def _task_loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        # The student's configured classification loss (label smoothing etc. included).
        return self.student.head.loss_module(logits, labels, avg_factor=logits.size(0))

    def loss(self, batch_inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        """``loss_task``, ``loss_distill``, ``loss_cross`` (already weighted by α, β, γ),
        plus any losses of the configured distiller."""
        labels = torch.cat([s.gt_label for s in data_samples])
        with self.teacher_context(batch_inputs) as inputs_T:
            logits_T = self.teacher(inputs_T, mode='tensor').float()
        with self.distiller.student_recorders:
            logits_S, feats = self.student_forward(batch_inputs)
        stones = self.stepping_stone_logits(feats)
        ensemble = torch.stack(stones).mean(0)
        if self.detach_ensemble:
            ensemble = ensemble.detach()
        T = self.temperature
        everyone = [logits_S] + stones
        losses = {
            'loss_task': self.task_weight * sum(self._task_loss(z, labels) for z in everyone),
            'loss_distill': self.distill_weight * sum(kd_loss(z, logits_T, T) for z in everyone),
            # kd_loss detaches its target; without detach_ensemble the target keeps its
            # gradient through the KL's teacher side, written out here.
            'loss_cross': self.cross_weight * sum(self._cross(z, ensemble) for z in everyone),
        }
        if self.distiller.distill_losses:
            losses.update({f'distill.{k}': v
                           for k, v in self.distiller.compute_distill_losses().items()})
        return losses

    def _cross(self, logits: Tensor, ensemble: Tensor) -> Tensor:
        if self.detach_ensemble:
            return kd_loss(logits, ensemble, self.temperature)
        T = self.temperature
        log_p_E = torch.log_softmax(ensemble.float() / T, dim=1)
        log_p = torch.log_softmax(logits.float() / T, dim=1)
        return (log_p_E.exp() * (log_p_E - log_p)).sum(1).mean() * T**2
