r"""CrossKD — Wang, Chen, Zheng, Li, Cheng, Hou, "CrossKD: Cross-Head Knowledge
Distillation for Object Detection", CVPR 2024. https://arxiv.org/abs/2306.11369

Prediction mimicking makes the student's head imitate the teacher's outputs while the
same head is trained on the ground truth; the two targets conflict where the teacher is
wrong or uncertain. CrossKD takes the student's head features after its first ``i``
stacked convs, feeds them through the *teacher's* head from layer ``i`` on (frozen
weights, gradients pass through to the student), and makes these cross-head predictions
mimic the teacher's own predictions. The student's remaining head layers are trained by
the detection losses alone. Published (COCO val box AP, official code jbwang1997/CrossKD):
GFL R101 → R50 1x 40.2 → 43.7 (43.9 with PKD on the FPN), RetinaNet R101 → R50 2x
37.4 → 39.7.

Losses, over every location :math:`r` of every level (official configs):

.. math::
    \mathcal{L}_{cls} = \frac{1}{N_{pos}} \sum_r w_r \sum_c
        \mathrm{QFL}_{\beta=1}(\hat p^s_{r,c}, p^t_{r,c}),\qquad
    \mathcal{L}_{reg} = \frac{\sum_r S_r \,\tfrac14 \sum_{e=1}^{4}
        \mathrm{KL}(P^t_{r,e} \| \hat P^s_{r,e})}{\sum_r S_r},\qquad
    \mathcal{L}_{bbox} = \frac{\sum_r S_r\,(1 - \mathrm{GIoU}(\hat b^s_r, b^t_r))}{Z}

with :math:`\hat{}` the cross-head predictions, :math:`S_r = \sigma(\max_c x^t_{r,c})`
the teacher's top class probability (the paper's region weight for regression),
:math:`w_r` the student's label weight (0 for anchors its assigner ignores, which also
zeroes :math:`S_r`), :math:`N_{pos}` the student's number of positives (the normaliser of
its own classification loss), :math:`P` GFL's per-edge box distributions, and boxes
decoded from the teacher's anchors; :math:`Z = \sum_r S_r` for GFL and :math:`N_{pos}` for
RetinaNet (as in the official code). Defaults are GFL's as on the official master
(``configs/crosskd/crosskd_r50_gflv1_r101-2x-ms_fpn_1x_coco.py`` at 87e156a4, the config
its README links for 43.7): QFL β = 1 weight 1, KL T = 1 (summed over the bins) weight
4, no GIoU term, index 3. The "KL 3 + GIoU 2" GFL weights are commit 9f695b4e ("Update
GFL", 2023-05-26), which exists only on unmerged branches (``GFL_BRANCH_9F695B4E``).
RetinaNet: QFL weight 1, GIoU weight 1, no KL.

The official code also gives the student's feature, per channel and per level, the
mean and standard deviation of the teacher's feature at the same index before the
teacher's layers (``align_statistics``, on by default) and re-applies the activation.

Which feature that is. The official forward (``CrossKDGFL.forward_crosskd_single`` and
``reuse_teacher_head``, jbwang1997/CrossKD master 87e156a4 and the 9f695b4e branch alike)
is written to keep each head conv's output *before* its activation::

    cls_feat = cls_conv(cls_feat, activate=False)
    if i + 1 == self.reused_teacher_head_idx:
        cls_feat_hold = cls_feat
    cls_feat = cls_conv.activate(cls_feat)

but mmcv's ``ConvModule`` builds its ReLU with ``inplace=True``, so ``activate``
overwrites the very tensor kept in ``cls_feat_hold``: as the code runs, student and
teacher features are taken *after* the ReLU, aligned, and passed through ``F.relu`` once
more. That is what produced the published numbers, and it is the default here
(``pre_activation=False``; the forward hook on the conv module sees its output, after
the activation). ``pre_activation=True`` computes what the code is written to do: both
features before the activation, then the alignment, then the activation — there the
alignment removes any per-channel shift of the student's feature exactly (a student
equal to the teacher up to a constant per channel in its norm bias gives the teacher's
predictions), which it does not after the ReLU. ``tests/models/algorithms/
test_crosskd.py`` runs a transcription of the official forward on mmcv's own modules to
pin both.
Where student and teacher heads differ in width, a connector (e.g. a 1x1 conv) maps the
student's channels to the teacher's first; the authors report that this works as well
(jbwang1997/CrossKD#8). Student and teacher must share the head type, anchors (strides,
sizes, ratios), classes and, for GFL, ``reg_max``: the cross-head predictions are read
at the teacher's anchors and compared location by location.

Why an algorithm. A loss in mmrazor's distiller receives recorded tensors; CrossKD needs
the teacher's head *layers* applied, with gradient, to a student tensor, and it needs the
student's target assignment (label weights, number of positives) for its region weights
and normaliser. So ``CrossKDDistill`` does only what a loss cannot: it runs the teacher's
backbone, neck and head towers once (keeping the feature at the chosen index), captures
the student's head feature at that index with a forward hook and its targets from
``bbox_head.get_targets`` during the student's own loss, runs the teacher's remaining
layers on the student feature, and hands the pairs of predictions to three registered
losses (``loss_cls_kd``, ``loss_reg_kd``, ``loss_bbox_kd``), logged as
``distill.loss_crosskd_cls`` / ``_reg`` / ``_bbox``. Everything else — recorders and
losses of the distiller, e.g. PKD on the FPN — works as in ``SingleTeacherDistill``. The
student stays a plain mmdet detector (hooks and connectors live in this wrapper; the
export keeps ``architecture.*`` only).
"""
import copy
from functools import partial
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.dense_heads import GFLHead, RetinaHead
from mmdet.utils import reduce_mean
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS as RAZOR_MODELS
from torch import Tensor, nn

from kd_mmdet.models.algorithms.single_teacher_distill import SingleTeacherDistill
from kd_mmdet.models.common.standardize import standardize_channels
from kd_mmdet.registry import MODELS

#: Heads whose forward CrossKD reproduces: stacked cls/reg convs, then the predictors.
SUPPORTED_HEADS = (GFLHead, RetinaHead)
BRANCHES = ('cls', 'reg')

#: Official GFL settings (jbwang1997/CrossKD master 87e156a4,
#: configs/crosskd/crosskd_r50_gflv1_r101-2x-ms_fpn_1x_coco.py): no box term.
GFL_LOSS_CLS_KD = dict(type='kd_mmdet.KDQualityFocalLoss', beta=1.0, loss_weight=1.0)
GFL_LOSS_REG_KD = dict(type='kd_mmdet.DistributionKLLoss', temperature=1.0, loss_weight=4.0)
GFL_LOSS_BBOX_KD = None
#: The same file at commit 9f695b4e ("Update GFL", 2023-05-26, unmerged branches only):
#: KL weight 3 and a GIoU term of weight 2 on the decoded boxes.
GFL_BRANCH_9F695B4E = dict(
    loss_cls_kd=GFL_LOSS_CLS_KD,
    loss_reg_kd=dict(GFL_LOSS_REG_KD, loss_weight=3.0),
    loss_bbox_kd=dict(type='mmdet.GIoULoss', loss_weight=2.0))


def run_convs(convs: Sequence[nn.Module], feat: Tensor, start: int = 0,
              stop: Optional[int] = None) -> Tensor:
    """``feat`` through ``convs[start:stop]`` in turn."""
    for conv in list(convs)[start:stop]:
        feat = conv(feat)
    return feat


def head_predict(head: nn.Module, cls_feat: Tensor, reg_feat: Tensor,
                 level: int) -> Tuple[Tensor, Tensor]:
    """The predictors of a GFL or RetinaNet head on its towers' outputs, at ``level``.

    Returns:
        ``(cls_score, bbox_pred)`` as the head's ``forward_single`` returns them: GFL
        (N, C, H, W) and (N, 4 (reg_max + 1), H, W) after the level's ``Scale``, in fp32;
        RetinaNet (N, A C, H, W) and (N, 4 A, H, W).
    """
    if isinstance(head, GFLHead):
        return head.gfl_cls(cls_feat), head.scales[level](head.gfl_reg(reg_feat)).float()
    return head.retina_cls(cls_feat), head.retina_reg(reg_feat)


def cross_head_forward(head: nn.Module, cls_feat: Tensor, reg_feat: Tensor, level: int,
                       start: int) -> Tuple[Tensor, Tensor]:
    """A head's stacked convs from index ``start`` on, then its predictors.

    With the teacher's head and the student's features after ``start`` convs these are
    CrossKD's cross-head predictions; with ``start = 0`` and the FPN map as both
    features, the head's own ``forward_single``.
    """
    cls_feat = run_convs(head.cls_convs, cls_feat, start)
    reg_feat = run_convs(head.reg_convs, reg_feat, start)
    return head_predict(head, cls_feat, reg_feat, level)


def match_statistics(feat: Tensor, reference: Tensor) -> Tensor:
    r"""``feat`` with the per-channel mean and standard deviation of ``reference``.

    .. math::
        \tilde F_c = \frac{F_c - \mu_c(F)}{\sigma_c(F) + \epsilon}\,\sigma_c(R) + \mu_c(R)

    statistics over (N, H, W), unbiased, :math:`\epsilon = 10^{-6}`
    (:func:`kd_mmdet.models.common.standardize_channels`, PKD's normalisation too); as
    CrossKD's official code does before the teacher's layers. Gradients flow into ``feat`` only.

    Args:
        feat: (N, C, H, W) student feature.
        reference: (N, C, H, W) teacher feature at the same index.
    """
    ref = reference.detach().float()
    mean = ref.mean(dim=(0, 2, 3), keepdim=True)
    count = max(ref.numel() // ref.shape[1] - 1, 1)
    std = ((ref - mean).pow(2).sum(dim=(0, 2, 3), keepdim=True) / count).sqrt()
    return standardize_channels(feat) * std + mean


def _branch_width(head: nn.Module, index: int) -> int:
    """Channels of a head's tower after ``index`` stacked convs."""
    return int(head.in_channels if index == 0 else head.feat_channels)


@MODELS.register_module()
class CrossKDDistill(SingleTeacherDistill):
    """CrossKD for GFL and RetinaNet students (see the module docstring).

    Args:
        reused_teacher_head_idx: index ``i`` of the teacher head's stacked convs where
            the student's features enter: they run through the teacher's convs ``i, …``
            and its predictors. 0 feeds the student's FPN maps to the whole teacher head.
            Paper and official configs: 3 (of 4), i.e. the teacher's last conv.
        student_head_idx: how many of the student's stacked convs produce the feature
            (default: ``reused_teacher_head_idx``); set it when the two heads have
            different depths.
        loss_cls_kd: classification distance (default ``kd_mmdet.KDQualityFocalLoss``,
            β 1, weight 1); None switches the term off.
        loss_reg_kd: GFL only: distance between the per-edge distributions (default
            ``kd_mmdet.DistributionKLLoss``, T 1, weight 4); must be None for RetinaNet.
        loss_bbox_kd: distance between the decoded boxes, e.g. ``mmdet.GIoULoss``
            (RetinaNet's official weight 1; GFL's 9f695b4e branch 2); default None, as
            master's GFL config.
        connector: config of a module (mmrazor registry, e.g. ``ConvModuleConnector``
            with a 1x1 kernel) mapping the student's head width to the teacher's; one is
            built per branch (cls, reg) and shared by the levels, as the head's convs
            are. Required when the widths differ.
        align_statistics: give the student's feature the teacher's per-channel mean and
            standard deviation at that index (official code; see
            :func:`match_statistics`).
        pre_activation: take both features at the index before the activation of the
            conv that produces them (the official code as written) instead of after it
            (the official code as it runs, mmcv's ReLU being in place; the default). See
            the module docstring.
        **kwargs: everything ``kd_mmdet.SingleTeacherDistill`` takes (``distiller``
            for further losses such as PKD on the FPN).
    """
    method = 'CrossKD'  # kd_mmdet.methods: an algorithm that is a method itself

    def __init__(self, *args, reused_teacher_head_idx: int = 3,
                 student_head_idx: Optional[int] = None,
                 loss_cls_kd: Optional[dict] = GFL_LOSS_CLS_KD,
                 loss_reg_kd: Optional[dict] = GFL_LOSS_REG_KD,
                 loss_bbox_kd: Optional[dict] = GFL_LOSS_BBOX_KD,
                 connector: Optional[dict] = None, align_statistics: bool = True,
                 pre_activation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        name = type(self).__name__
        if self.teacher_trainable:
            raise ValueError(f'{name}: teacher_trainable=True is not supported; CrossKD '
                             'runs the frozen teacher head on the student\'s features')
        if len(self.distiller.deliveries.deliveries):
            raise ValueError(f'{name}: distiller deliveries are not supported')
        head_S = getattr(self.student, 'bbox_head', None)
        head_T = getattr(self.teacher, 'bbox_head', None)
        for role, head in (('student', head_S), ('teacher', head_T)):
            if type(head) not in SUPPORTED_HEADS:
                raise ValueError(
                    f'{name}: the {role}\'s bbox_head is {type(head).__name__}; CrossKD '
                    f'supports {", ".join(h.__name__ for h in SUPPORTED_HEADS)}')
        if type(head_S) is not type(head_T):
            raise ValueError(f'{name}: student head {type(head_S).__name__} vs teacher head '
                             f'{type(head_T).__name__}: the heads must be of one type')
        self.teacher_idx = int(reused_teacher_head_idx)
        self.student_idx = self.teacher_idx if student_head_idx is None else \
            int(student_head_idx)
        for arg, idx, head, role in (
                ('reused_teacher_head_idx', self.teacher_idx, head_T, 'teacher'),
                ('student_head_idx', self.student_idx, head_S, 'student')):
            if not 0 <= idx <= head.stacked_convs:
                raise ValueError(f'{name}: {arg}={idx} is outside [0, {head.stacked_convs}] '
                                 f'(the {role} head has {head.stacked_convs} stacked convs)'
                                 + ('; set student_head_idx for a shallower student'
                                    if role == 'student' and student_head_idx is None else ''))
        if self.student_idx == 0 and head_S.stacked_convs == 0:
            raise ValueError(f'{name}: the student head has no stacked convs to hook')
        self._check_same_predictions(head_S, head_T)

        width_S = _branch_width(head_S, self.student_idx)
        width_T = _branch_width(head_T, self.teacher_idx)
        if connector is None and width_S != width_T:
            raise ValueError(
                f'{name}: the student head is {width_S} channels wide after '
                f'{self.student_idx} convs, the teacher head expects {width_T} at index '
                f'{self.teacher_idx}; add connector=dict(type=\'ConvModuleConnector\', '
                f'in_channel={width_S}, out_channel={width_T}, kernel_size=1, '
                'norm_cfg=None, act_cfg=None)')
        self.crosskd_connectors = None if connector is None else nn.ModuleDict(
            {b: RAZOR_MODELS.build(copy.deepcopy(connector)) for b in BRANCHES})
        self.align_statistics = bool(align_statistics)
        # Before the activation only where a conv produces the feature (index > 0).
        self.pre_activation = bool(pre_activation)
        if self.pre_activation:
            for role, head, idx in (('student', head_S, self.student_idx),
                                    ('teacher', head_T, self.teacher_idx)):
                for branch in BRANCHES:
                    conv = getattr(head, f'{branch}_convs')[idx - 1] if idx > 0 else None
                    if conv is not None and tuple(getattr(conv, 'order', ())) != \
                            ('conv', 'norm', 'act'):
                        raise ValueError(
                            f'{name}: pre_activation=True needs the {role}\'s {branch} '
                            f'conv {idx - 1} to be an mmcv ConvModule with order (conv, '
                            f'norm, act), got {getattr(conv, "order", type(conv).__name__)}')
        # The activation the teacher's conv before the index applies (ReLU), out of
        # place: without connector and alignment the student's own activation output
        # passes it, and its next conv keeps that tensor for the backward.
        self._activations: Dict[str, Optional[nn.Module]] = {}
        for branch in BRANCHES:
            conv = getattr(head_T, f'{branch}_convs')[self.teacher_idx - 1] \
                if self.teacher_idx > 0 else None
            act = copy.deepcopy(conv.activate) if getattr(conv, 'with_activation',
                                                           False) else None
            if act is not None and hasattr(act, 'inplace'):
                act.inplace = False
            self._activations[branch] = act

        if loss_reg_kd is not None and not isinstance(head_T, GFLHead):
            raise ValueError(f'{name}: loss_reg_kd compares GFL box distributions; a '
                             f'{type(head_T).__name__} has none (set it to None)')
        self.crosskd_losses = nn.ModuleDict({
            key: RAZOR_MODELS.build(copy.deepcopy(cfg))
            for key, cfg in (('cls', loss_cls_kd), ('reg', loss_reg_kd),
                             ('bbox', loss_bbox_kd)) if cfg is not None})

        # Student head features at the index, one per level and branch, kept while the
        # student computes its loss (forward hooks; the student's modules are untouched).
        self._keep = False
        self._mid_S: Dict[str, List[Tensor]] = {b: [] for b in BRANCHES}
        for branch in BRANCHES:
            convs = getattr(head_S, f'{branch}_convs')
            if self.student_idx == 0:
                convs[0].register_forward_pre_hook(partial(self._keep_input, branch))
            elif self.pre_activation:
                conv = convs[self.student_idx - 1]
                last = conv.norm if conv.with_norm else conv.conv
                last.register_forward_hook(partial(self._keep_before_activation, branch))
            else:
                convs[self.student_idx - 1].register_forward_hook(
                    partial(self._keep_output, branch))

    # ---- construction checks -------------------------------------------------------
    def _check_same_predictions(self, head_S: nn.Module, head_T: nn.Module) -> None:
        """Raise unless both heads predict the same quantities at the same anchors."""
        name = type(self).__name__
        gen_S, gen_T = head_S.prior_generator, head_T.prior_generator
        facts = [('classes (cls_out_channels)', head_S.cls_out_channels,
                  head_T.cls_out_channels),
                 ('anchor strides', [tuple(s) for s in gen_S.strides],
                  [tuple(s) for s in gen_T.strides]),
                 ('anchors per location', list(gen_S.num_base_priors),
                  list(gen_T.num_base_priors))]
        if isinstance(head_T, GFLHead):
            facts.append(('reg_max', head_S.reg_max, head_T.reg_max))
        else:
            facts.append(('bbox_coder', repr(vars(head_S.bbox_coder)),
                          repr(vars(head_T.bbox_coder))))
        for what, s, t in facts:
            if s != t:
                raise ValueError(f'{name}: student and teacher heads differ in {what}: '
                                 f'{s} vs {t}')
        if not all(a.shape == b.shape and torch.allclose(a, b)
                   for a, b in zip(gen_S.base_anchors, gen_T.base_anchors)):
            sizes = [[tuple(round(float(v), 1) for v in a[0])] for a in gen_S.base_anchors]
            sizes_T = [[tuple(round(float(v), 1) for v in a[0])] for a in gen_T.base_anchors]
            raise ValueError(f'{name}: student and teacher anchors differ (first base '
                             f'anchor per level: {sizes} vs {sizes_T}); the cross-head '
                             'predictions are compared at the teacher\'s anchors')

    # ---- hooks ------------------------------------------------------------------------
    def _keep_input(self, branch: str, module: nn.Module, args: Tuple) -> None:
        if self._keep:
            self._mid_S[branch].append(args[0])

    def _keep_output(self, branch: str, module: nn.Module, args: Tuple,
                     output: Tensor) -> None:
        if self._keep:
            self._mid_S[branch].append(output)

    def _keep_before_activation(self, branch: str, module: nn.Module, args: Tuple,
                                output: Tensor) -> Optional[Tensor]:
        """Keep the last layer's output before the ConvModule's activation; the module
        goes on with a copy, which its in-place ReLU may overwrite."""
        if not self._keep:
            return None
        self._mid_S[branch].append(output)
        return output.clone()

    # ---- the step ---------------------------------------------------------------------
    def teacher_head_forward(self, feats: Sequence[Tensor]
                             ) -> Tuple[Dict[str, List[Tensor]], List[Tensor], List[Tensor]]:
        """The teacher head on its FPN maps, keeping its features at the index.

        Returns:
            ``(mid, cls_scores, bbox_preds)``: ``mid[branch][level]`` the tower's output
            after ``reused_teacher_head_idx`` convs (before that conv's activation with
            ``pre_activation``); the head's predictions per level.
        """
        head = self.teacher.bbox_head
        idx = self.teacher_idx
        mid: Dict[str, List[Tensor]] = {b: [] for b in BRANCHES}
        cls_scores, bbox_preds = [], []
        for level, x in enumerate(feats):
            out = {}
            for branch in BRANCHES:
                convs = getattr(head, f'{branch}_convs')
                if self.pre_activation and idx > 0:
                    feat = convs[idx - 1](run_convs(convs, x, 0, idx - 1), activate=False)
                    mid[branch].append(feat)
                    act = self._activations[branch]
                    out[branch] = feat if act is None else act(feat)
                else:
                    mid[branch].append(run_convs(convs, x, 0, idx))
                    out[branch] = mid[branch][-1]
            cls, reg = cross_head_forward(head, out['cls'], out['reg'], level, idx)
            cls_scores.append(cls.float())
            bbox_preds.append(reg.float())
        return mid, cls_scores, bbox_preds

    def cross_head_predictions(self, mid_S: Dict[str, List[Tensor]],
                               mid_T: Dict[str, List[Tensor]]
                               ) -> Tuple[List[Tensor], List[Tensor]]:
        """The teacher's head from the index on, applied to the student's features.

        Each student feature passes the connector (if any), takes the teacher feature's
        statistics (``align_statistics``) and the activation the teacher's previous conv
        applies, then the teacher's remaining convs and predictors.
        """
        head = self.teacher.bbox_head
        cls_scores, bbox_preds = [], []
        for level in range(len(mid_T['cls'])):
            feats = {}
            for branch in BRANCHES:
                feat = mid_S[branch][level]
                if self.crosskd_connectors is not None:
                    feat = self.crosskd_connectors[branch](feat)
                if self.align_statistics:
                    feat = match_statistics(feat, mid_T[branch][level])
                if self._activations[branch] is not None:
                    feat = self._activations[branch](feat)
                feats[branch] = feat
            cls, reg = cross_head_forward(head, feats['cls'], feats['reg'], level,
                                          self.teacher_idx)
            cls_scores.append(cls.float())
            bbox_preds.append(reg.float())
        return cls_scores, bbox_preds

    def loss(self, batch_inputs: Tensor,
             data_samples: Optional[List[Any]] = None) -> Dict[str, Tensor]:
        """Teacher (features, head), student loss, then the CrossKD terms."""
        # Recorders, no_grad and teacher_precision / teacher_channels_last as every
        # teacher of SingleTeacherDistill; the head's outputs are cast to fp32 below.
        with self.teacher_context(batch_inputs) as inputs_T:
            feats_T = self.teacher.extract_feat(inputs_T)
            mid_T, cls_T, reg_T = self.teacher_head_forward(feats_T)

        head_S = self.student.bbox_head
        targets: List[tuple] = []
        get_targets = head_S.get_targets

        def keep_targets(*args, **kwargs):
            out = get_targets(*args, **kwargs)
            targets.append(out)
            return out

        losses: Dict[str, Tensor] = {}
        self._mid_S = {b: [] for b in BRANCHES}
        head_S.get_targets = keep_targets  # for this step only, removed below
        self._keep = True
        try:
            with self.distiller.student_recorders:
                if self.calculate_student_loss:
                    losses.update(add_prefix(
                        self.student(batch_inputs, data_samples, mode='loss'), 'student'))
                elif self.student_trainable:
                    self.student(batch_inputs, data_samples, mode='loss')
                else:
                    with torch.no_grad():
                        self.student(batch_inputs, data_samples, mode='loss')
        finally:
            self._keep = False
            del head_S.get_targets
        mid_S, self._mid_S = self._mid_S, {b: [] for b in BRANCHES}

        if not self.distillation_stopped:
            distill = self.distiller.compute_distill_losses()
            scale = getattr(self.distiller, 'loss_scale', 1.0)
            for key, value in self.crosskd_loss(mid_S, mid_T, cls_T, reg_T,
                                                targets).items():
                distill[key] = value * scale
            losses.update(add_prefix(distill, 'distill'))
        return losses

    def crosskd_loss(self, mid_S: Dict[str, List[Tensor]], mid_T: Dict[str, List[Tensor]],
                     cls_T: List[Tensor], reg_T: List[Tensor],
                     targets: List[tuple]) -> Dict[str, Tensor]:
        """The CrossKD terms from the kept features and the student's targets."""
        name = type(self).__name__
        levels = len(cls_T)
        if any(len(mid_S[b]) != levels for b in BRANCHES) or len(targets) != 1:
            raise RuntimeError(
                f'{name}: expected one student head feature per level and branch and one '
                f'get_targets call per step, got {len(mid_S["cls"])} / '
                f'{len(mid_S["reg"])} features for {levels} levels and {len(targets)} '
                'calls')
        cross_cls, cross_reg = self.cross_head_predictions(mid_S, mid_T)
        head = self.teacher.bbox_head
        is_gfl = isinstance(head, GFLHead)
        # GFLHead.get_targets returns anchors first; AnchorHead's starts with the labels.
        label_weights = targets[0][2 if is_gfl else 1]
        num_pos = targets[0][5 if is_gfl else 4]
        device = cls_T[0].device
        num_pos = torch.as_tensor(num_pos, dtype=torch.float, device=device)
        if is_gfl:  # GFL averages its normaliser over the processes (reduce_mean)
            num_pos = reduce_mean(num_pos)
        num_pos = num_pos.clamp(min=1.0).item()

        C = head.cls_out_channels

        def rows(maps: List[Tensor], width: int) -> Tensor:
            return torch.cat([m.permute(0, 2, 3, 1).reshape(-1, width) for m in maps])

        t_cls, s_cls = rows(cls_T, C), rows(cross_cls, C)
        weight = torch.cat([w.reshape(-1) for w in label_weights]).float()
        # Region weight of the regression terms: the teacher's top class probability.
        region = t_cls.max(dim=1).values.sigmoid() * (weight > 0)
        out: Dict[str, Tensor] = {}
        if 'cls' in self.crosskd_losses:
            out['loss_crosskd_cls'] = self.crosskd_losses['cls'](
                s_cls, t_cls, weight=weight, avg_factor=num_pos)
        if is_gfl and 'reg' in self.crosskd_losses:
            bins = head.reg_max + 1
            out['loss_crosskd_reg'] = self.crosskd_losses['reg'](
                rows(cross_reg, 4 * bins).reshape(-1, bins),
                rows(reg_T, 4 * bins).reshape(-1, bins),
                weight=region.repeat_interleave(4), avg_factor=4 * region.sum().item())
        if 'bbox' in self.crosskd_losses:
            boxes_S, boxes_T = self._decode(cross_reg, reg_T, cls_T[0].shape[0])
            out['loss_crosskd_bbox'] = self.crosskd_losses['bbox'](
                boxes_S, boxes_T, weight=region,
                avg_factor=region.sum().item() if is_gfl else num_pos)
        return out

    def _decode(self, preds_S: List[Tensor], preds_T: List[Tensor],
                num_images: int) -> Tuple[Tensor, Tensor]:
        """Both predictions decoded to boxes at the teacher's anchors, (M, 4) each.

        GFL: anchor centres and distances in units of the level's stride (as GFL's own
        GIoU term; GIoU does not depend on the unit). RetinaNet: pixels.
        """
        head = self.teacher.bbox_head
        sizes = [p.shape[-2:] for p in preds_T]
        anchors = head.prior_generator.grid_priors(sizes, device=preds_T[0].device)
        boxes_S, boxes_T = [], []
        for level, (s, t, a) in enumerate(zip(preds_S, preds_T, anchors)):
            a = a.repeat(num_images, 1)
            if isinstance(head, GFLHead):
                stride = head.prior_generator.strides[level][0]
                centers = head.anchor_center(a) / stride
                width = 4 * (head.reg_max + 1)
                for pred, out in ((s, boxes_S), (t, boxes_T)):
                    dist = head.integral(pred.permute(0, 2, 3, 1).reshape(-1, width))
                    out.append(head.bbox_coder.decode(centers, dist))
            else:
                for pred, out in ((s, boxes_S), (t, boxes_T)):
                    deltas = pred.permute(0, 2, 3, 1).reshape(-1, 4)
                    out.append(head.bbox_coder.decode(a, deltas))
        return torch.cat(boxes_S), torch.cat(boxes_T)
