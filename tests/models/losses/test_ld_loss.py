import math

import pytest
import torch

from kd_mmdet.models.losses import LDLoss, ld_loss


def ld_reference(s, t, tau):
    """Loop-by-loop transcription of Zheng et al. (CVPR 2022), eq. 6: per edge,
    τ² · KL(softmax(t/τ) ‖ softmax(s/τ)), averaged over the n + 1 bins as the official
    code does."""
    per_edge = []
    for zs, zt in zip(s.tolist(), t.tolist()):
        es = [math.exp(v / tau) for v in zs]
        et = [math.exp(v / tau) for v in zt]
        kl = sum(et[i] / sum(et) * math.log((et[i] / sum(et)) / (es[i] / sum(es)))
                 for i in range(len(zs)))
        per_edge.append(kl * tau**2 / len(zs))
    return per_edge


def edges(seed, M=8, bins=17):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(M, bins, generator=g) * 3, torch.randn(M, bins, generator=g) * 3,
            torch.rand(M, generator=g))


@pytest.mark.parametrize('tau', [1.0, 2.0, 10.0])
def test_matches_slow_transcription(tau):
    """Per-edge loss, weighted mean with avg_factor, and sum equal the per-bin loop."""
    s, t, w = edges(0)
    ref = ld_reference(s, t, tau)
    assert ld_loss(s, t, tau).tolist() == pytest.approx(ref, rel=1e-4, abs=1e-8)
    loss = LDLoss(temperature=tau, loss_weight=1.0)
    assert loss(s, t, weight=w, avg_factor=4.0).item() == pytest.approx(
        sum(r * wi for r, wi in zip(ref, w.tolist())) / 4.0, rel=1e-4)
    assert loss(s, t, reduction_override='sum').item() == pytest.approx(sum(ref), rel=1e-4)


@pytest.mark.parametrize('T,loss_weight', [(10, 0.25), (2, 10.0), (1, 1.0)])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_equals_mmdet_knowledge_distillation_kl_div_loss(T, loss_weight, reduction):
    """Numerically equal to mmdet 3.3's KnowledgeDistillationKLDivLoss on the same inputs,
    weights and avg_factor."""
    from mmdet.models.losses import KnowledgeDistillationKLDivLoss
    s, t, w = edges(1)
    ref = KnowledgeDistillationKLDivLoss(reduction=reduction, loss_weight=loss_weight, T=T)
    ours = LDLoss(temperature=T, loss_weight=loss_weight, reduction=reduction)
    torch.testing.assert_close(ours(s, t), ref(s, t), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(ours(s, t, weight=w), ref(s, t, weight=w), rtol=1e-5,
                               atol=1e-7)
    if reduction != 'sum':  # mmdet forbids avg_factor with 'sum'
        torch.testing.assert_close(ours(s, t, weight=w, avg_factor=4.0),
                                   ref(s, t, weight=w, avg_factor=4.0), rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(ours(s, t, avg_factor=0.0), ref(s, t, avg_factor=0.0))
    torch.testing.assert_close(ours(s, t, reduction_override='sum'),
                               ref(s, t, reduction_override='sum'), rtol=1e-5, atol=1e-7)


def build_ld_head(loss_ld):
    """A tiny mmdet 3.3 LDHead (2 levels, 4 channels, reg_max 16) with the given loss_ld."""
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    return MMDET_MODELS.build(dict(
        type='LDHead', num_classes=3, in_channels=4, feat_channels=4, stacked_convs=1,
        norm_cfg=None, reg_max=16, loss_ld=loss_ld,
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=2,
                              scales_per_octave=1, strides=[8, 16]),
        train_cfg=ConfigDict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1,
                             pos_weight=-1, debug=False)))


@pytest.mark.filterwarnings('ignore:.*num_anchors. is deprecated')
def test_drop_in_for_mmdet_ld_head():
    """In mmdet's LDHead, loss_ld=kd_mmdet.LDLoss gives the same losses as mmdet's own
    KnowledgeDistillationKLDivLoss (student and teacher heads' outputs per level)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(1, 4, 8, 8, generator=g), torch.randn(1, 4, 4, 4, generator=g)]
    teacher = ([torch.randn(1, 3, 8, 8, generator=g), torch.randn(1, 3, 4, 4, generator=g)],
               [torch.randn(1, 68, 8, 8, generator=g), torch.randn(1, 68, 4, 4, generator=g)])
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64),
                                         batch_input_shape=(64, 64)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[10.0, 12.0, 40.0, 50.0]]),
                                       labels=torch.tensor([1]))
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):  # other tests may leave 'mmrazor'
        ours = build_ld_head(dict(type='kd_mmdet.LDLoss', temperature=10, loss_weight=0.25))
        ref = build_ld_head(dict(type='KnowledgeDistillationKLDivLoss', T=10,
                                 loss_weight=0.25))
        losses, ref_losses = (head.loss(feats, teacher, [sample]) for head in (ours, ref))
    assert sum(losses['loss_ld']) > 0
    for key in ('loss_ld', 'loss_cls', 'loss_bbox', 'loss_dfl'):
        torch.testing.assert_close(torch.stack(losses[key]), torch.stack(ref_losses[key]))


def test_zero_when_student_equals_teacher():
    """KL of a distribution with itself is zero."""
    _, t, _ = edges(2)
    assert LDLoss()(t.clone(), t).item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_reaches_student_not_teacher():
    """Only the student gets a (finite, non-zero) gradient; soft labels are detached."""
    s0, t0, w = edges(3)
    s, t = s0.clone().requires_grad_(), t0.clone().requires_grad_()
    LDLoss()(s, t, weight=w, avg_factor=4.0).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_loss_weight_is_linear():
    """loss_weight scales the loss linearly."""
    s, t, w = edges(4)
    assert LDLoss(loss_weight=0.5)(s, t, weight=w).item() == pytest.approx(
        2.0 * LDLoss(loss_weight=0.25)(s, t, weight=w).item(), rel=1e-6)


def test_reduction_none_keeps_one_value_per_edge():
    """reduction='none' returns the weighted per-edge loss, shape (M,)."""
    s, t, w = edges(5)
    out = LDLoss(loss_weight=1.0, reduction='none')(s, t, weight=w)
    assert out.shape == (8, )
    torch.testing.assert_close(out, ld_loss(s, t, 10.0) * w)


@pytest.mark.parametrize('kwargs', [dict(temperature=0), dict(temperature=-10.0),
                                    dict(loss_weight=-0.25), dict(reduction='batchmean')])
def test_bad_arguments_rejected(kwargs):
    """Non-positive temperature, negative weight or unknown reduction fail at build time."""
    with pytest.raises(ValueError, match='LDLoss'):
        LDLoss(**kwargs)


def test_bad_call_arguments_name_component_and_shapes():
    """Mismatched edges, a wrong weight shape, a bad override or avg_factor with 'sum'."""
    s, t, w = edges(6)
    with pytest.raises(ValueError, match=r'LDLoss: student \(8, 17\) vs teacher \(8, 9\)'):
        LDLoss()(s, t[:, :9])
    with pytest.raises(ValueError, match=r'LDLoss: weight must have shape \(8,\) for pred '
                                         r'\(8, 17\), got \(2,\)'):
        LDLoss()(s, t, weight=w[:2])
    with pytest.raises(ValueError, match=r'LDLoss: reduction must be one of'):
        LDLoss()(s, t, reduction_override='batchmean')
    with pytest.raises(ValueError, match=r'LDLoss: avg_factor cannot be used with'):
        LDLoss()(s, t, avg_factor=4.0, reduction_override='sum')


def test_built_through_mmdet_and_mmrazor_registries():
    """`kd_mmdet.LDLoss` builds from mmdet's registry (heads) and mmrazor's (distillers)."""
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmrazor.registry import MODELS as MMRAZOR_MODELS
    loss = MMDET_MODELS.build(dict(type='kd_mmdet.LDLoss'))
    assert isinstance(loss, LDLoss)
    assert (loss.temperature, loss.loss_weight, loss.reduction) == (10.0, 0.25, 'mean')
    loss = MMRAZOR_MODELS.build(dict(type='kd_mmdet.LDLoss', temperature=2, loss_weight=10))
    assert isinstance(loss, LDLoss) and loss.temperature == 2.0


def test_extreme_logits_give_finite_loss_and_gradient():
    """Edge logits of ±1e4 give a finite loss and gradient."""
    s = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    t = torch.tensor([[-1e4, 1e4, 0.0], [1e4, -1e4, 0.0]])
    loss = LDLoss(temperature=1.0)(s, t)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0 and torch.isfinite(s.grad).all()


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_input_gives_finite_loss(dtype):
    """fp16/bf16 edge logits are computed in fp32 and agree with the fp32 loss."""
    s, t, w = edges(7)
    s, t = (s * 20).to(dtype), (t * 20).to(dtype)
    loss = LDLoss()(s, t, weight=w, avg_factor=4.0)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(
        LDLoss()(s.float(), t.float(), weight=w, avg_factor=4.0).item(), rel=1e-5)
