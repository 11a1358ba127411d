import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from kd_mmdet.models.algorithms import BlockwiseLogitDistill
from kd_mmdet.registry import MODELS

NUM_CLASSES = 5


def classifier(depth, width):
    return dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='kd_mmdet.CifarResNet', depth=depth, stem_channels=width,
                      base_channels=width, zero_init_residual=False),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=4 * width,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def build(stages=(0, 1), train=False, **kwargs):
    """A hand-built pair: ResNet-14 of width 6 teaches ResNet-8 of width 4."""
    torch.manual_seed(0)
    connectors = [dict(type='mmrazor.ConvModuleConnector', in_channel=4 * 2**i,
                       out_channel=6 * 2**i, kernel_size=1, norm_cfg=dict(type='BN'),
                       act_cfg=dict(type='ReLU')) for i in stages]
    model = MODELS.build(dict(type='kd_mmdet.BlockwiseLogitDistill',
                              architecture=classifier(8, 4), teacher=classifier(14, 6),
                              stages=stages, connectors=connectors, **kwargs))
    model.init_weights()
    for m in (model.student, model.teacher):  # logits of order 1, not mmpretrain's 0.01
        torch.nn.init.normal_(m.head.fc.weight, std=1.0)
    # mmrazor's train() returns None, so modes are set here rather than chained.
    model.train(train)
    return model


def stem_and_stages(backbone, x, upto):
    """Hand-written: 3x3 stem, BN, ReLU, then stages 0..upto of a CIFAR ResNet."""
    x = F.relu(backbone.norm1(backbone.conv1(x)))
    for stage in (backbone.layer1, backbone.layer2, backbone.layer3)[:upto + 1]:
        x = stage(x)
    return x


def head(model, x):
    return model.head.fc(x.mean(dim=(2, 3)))


def test_stepping_stone_logits_compose_student_connector_teacher():
    """N_i(x) = teacher head o teacher stages > i o C_i o student stages <= i, by hand."""
    model = build()
    x = torch.randn(3, 3, 16, 16)
    logits_S, feats = model.student_forward(x)
    stones = model.stepping_stone_logits(feats)
    S, T = model.student.backbone, model.teacher.backbone
    teacher_stages = (T.layer1, T.layer2, T.layer3)
    for k, i in enumerate((0, 1)):
        out = model.connectors[k](stem_and_stages(S, x, i))
        for stage in teacher_stages[i + 1:]:
            out = stage(out)
        assert torch.allclose(stones[k], head(model.teacher, out), atol=1e-5)
    assert torch.allclose(logits_S, head(model.student, stem_and_stages(S, x, 2)), atol=1e-5)
    assert torch.allclose(logits_S, model.student(x, mode='tensor'), atol=1e-5)


def test_loss_matches_slow_transcription():
    """alpha, beta, gamma weigh the task, teacher-KD and ensemble-KD sums over S and N_i."""
    alpha, beta, gamma, T = 0.7, 1.3, 0.4, 2.0
    model = build(task_weight=alpha, distill_weight=beta, cross_weight=gamma,
                  temperature=T)
    x = torch.randn(4, 3, 16, 16)
    labels = torch.tensor([0, 3, 1, 4])
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    losses = model.loss(x, samples)

    def kd(z, target):
        p = F.softmax(target / T, 1)
        return (p * (p.log() - F.log_softmax(z / T, 1))).sum(1).mean() * T**2

    with torch.no_grad():
        logits_S, feats = model.student_forward(x)
        stones = model.stepping_stone_logits(feats)
        logits_T = model.teacher(x, mode='tensor')
    everyone = [logits_S] + stones
    ensemble = (stones[0] + stones[1]) / 2
    expected = {
        'loss_task': alpha * sum(F.cross_entropy(z, labels) for z in everyone),
        'loss_distill': beta * sum(kd(z, logits_T) for z in everyone),
        'loss_cross': gamma * sum(kd(z, ensemble) for z in everyone),
    }
    assert set(losses) == set(expected)
    for name, value in expected.items():
        assert losses[name].item() == pytest.approx(value.item(), rel=1e-4), name


def test_teacher_frozen_gradients_reach_connectors_and_early_student_stages():
    """Teacher parameters get no gradient; C_i and the student's first stage do."""
    model = build(train=True)
    samples = [DataSample().set_gt_label(i % NUM_CLASSES) for i in range(4)]
    sum(model.loss(torch.randn(4, 3, 16, 16), samples).values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in model.connectors.parameters())
    assert model.student.backbone.layer1[0].conv1.weight.grad.abs().sum() > 0
    # The teacher's BatchNorm statistics stay those of the teacher (eval mode).
    assert not model.teacher.backbone.norm1.training


def test_without_detached_ensemble_the_cross_term_reaches_the_stones():
    """detach_ensemble=False lets L_cross pull the stepping stones towards the student."""
    grads = {}
    for detach in (True, False):
        model = build(task_weight=0.0, distill_weight=0.0, detach_ensemble=detach)
        x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
        samples = [DataSample().set_gt_label(1), DataSample().set_gt_label(2)]
        model.loss(x, samples)['loss_cross'].backward()
        grads[detach] = model.connectors[0].conv_module.conv.weight.grad.clone()
    assert not torch.allclose(grads[True], grads[False])


@pytest.mark.parametrize('T', [1.0, 3.0])
def test_non_detached_cross_term_is_kl_to_the_ensemble_times_t_squared(T):
    """detach_ensemble=False: L_cross = γ Σ_z T² KL(p_ens ‖ p_z), target side not
    detached; value and the gradients of every connector and the student's first stage
    equal autograd through a hand-written KL (a reversed KL, a missing T² or a
    detached target each fail)."""
    gamma = 0.6
    model = build(task_weight=0.0, distill_weight=0.0, cross_weight=gamma,
                  temperature=T, detach_ensemble=False)
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    samples = [DataSample().set_gt_label(i) for i in (0, 2, 4)]
    params = [*model.connectors.parameters(), *model.student.backbone.layer1.parameters()]

    got = model.loss(x, samples)['loss_cross']
    got_grads = torch.autograd.grad(got, params)

    def kl(target, z):  # KL(softmax(target / T) ‖ softmax(z / T)), row mean, one loop
        rows = []
        for t_row, z_row in zip(target, z):
            p, q = F.softmax(t_row / T, 0), F.softmax(z_row / T, 0)
            rows.append(sum(p[c] * (p[c].log() - q[c].log()) for c in range(p.numel())))
        return torch.stack(rows).mean()

    logits_S, feats = model.student_forward(x)
    stones = model.stepping_stone_logits(feats)
    ensemble = sum(stones) / len(stones)  # not detached
    expected = gamma * T**2 * sum(kl(ensemble, z) for z in [logits_S] + stones)
    expected_grads = torch.autograd.grad(expected, params)

    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    assert got.item() > 1e-3  # the terms are not all zero
    for g, e in zip(got_grads, expected_grads, strict=True):
        assert torch.allclose(g, e, rtol=1e-4, atol=1e-7)
    assert any(g.abs().sum() > 0 for g in got_grads)


def test_only_the_student_is_exported_and_predicts():
    """State dict parts are architecture / teacher / connectors; predict uses the student."""
    model = build()
    parts = {k.split('.', 1)[0] for k in model.state_dict()}
    assert parts == {'architecture', 'teacher', 'connectors'}
    from tests.tools import load_tool
    kept, dropped = load_tool('tools/export_student.py').split_state_dict(model.state_dict())
    assert set(dropped) == {'teacher.', 'connectors.'}
    assert set(kept) == set(model.student.state_dict())
    x = torch.randn(2, 3, 16, 16)
    preds = model(x, [DataSample(), DataSample()], mode='predict')
    direct = model.student(x, [DataSample(), DataSample()], mode='predict')
    assert torch.equal(preds[0].pred_score, direct[0].pred_score)


@pytest.mark.parametrize('stages,connectors,match', [
    ((), 0, 'stages must be distinct'), ((3, ), 1, 'stages must be distinct'),
    ((0, 0), 2, 'stages must be distinct'), ((0, 1), 1, 'one connector per stage')])
def test_bad_stages_are_named(stages, connectors, match):
    """Out-of-range or repeated stages, or a connector count mismatch, fail at build."""
    conn = dict(type='mmrazor.ConvModuleConnector', in_channel=4, out_channel=6)
    with pytest.raises(ValueError, match=f'BlockwiseLogitDistill: {match}'):
        BlockwiseLogitDistill(architecture=classifier(8, 4), teacher=classifier(14, 6),
                              stages=stages, connectors=[conn] * connectors)
