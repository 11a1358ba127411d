import pytest
import torch
from mmrazor.registry import MODELS


def make_distiller():
    return MODELS.build(dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(x=dict(type='ModuleOutputs', source='conv')),
        teacher_recorders=dict(x=dict(type='ModuleOutputs', source='conv')),
        distill_losses=dict(loss_a=dict(type='kd_mmdet.CWDLoss', loss_weight=2.0)),
        loss_forward_mappings=dict(loss_a=dict(
            preds_S=dict(from_student=True, recorder='x'),
            preds_T=dict(from_student=False, recorder='x')))))


def run(distiller):
    student, teacher = torch.nn.Sequential(), torch.nn.Sequential()
    student.conv, teacher.conv = torch.nn.Conv2d(1, 2, 1), torch.nn.Conv2d(1, 2, 1)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.randn(2, 1, 4, 4)
    with distiller.student_recorders, distiller.teacher_recorders:
        student(x), teacher(x)
    return distiller.compute_distill_losses()


def test_loss_scale_multiplies_every_loss():
    """loss_scale (set by the warm-up hook) scales the distillation losses linearly."""
    torch.manual_seed(0)
    full = run(make_distiller())['loss_a']
    torch.manual_seed(0)
    d = make_distiller()
    d.loss_scale = 0.25
    assert run(d)['loss_a'].item() == pytest.approx(0.25 * full.item(), rel=1e-6)


def test_dict_results_become_separate_named_losses(monkeypatch):
    """A loss returning named terms is logged as `<loss name>_<term>` entries."""
    d = make_distiller()
    monkeypatch.setattr(d.distill_losses['loss_a'], 'forward',
                        lambda preds_S, preds_T: dict(fg=preds_S.sum() * 0 + 1.0,
                                                      bg=preds_S.sum() * 0 + 2.0))
    losses = run(d)
    assert set(losses) == {'loss_a_fg', 'loss_a_bg'}
    assert losses['loss_a_bg'].item() == 2.0
