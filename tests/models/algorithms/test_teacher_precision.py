"""teacher_precision and teacher_channels_last on every algorithm that runs a teacher."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from .toy import build_algorithm, det_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CWD = Config.fromfile(osp.join(REPO, 'configs/cwd/cwd_fpn_gfl_digits.py'))
DKD = Config.fromfile(osp.join(REPO, 'configs/dkd/dkd_faster-rcnn_digits.py'))


def build(cfg, **overrides):
    model = build_algorithm(cfg, **overrides)
    model.train()
    return model


batch = det_batch


def teacher_records(model, data):
    """One training step; the teacher recorders' buffers afterwards, flattened."""
    torch.manual_seed(2)
    losses = model.loss(data['inputs'], data['data_samples'])
    records = []
    for recorder in model.distiller.teacher_recorders.recorders.values():
        for value in recorder.data_buffer:
            records += list(value) if isinstance(value, (tuple, list)) else [value]
    return losses, records


_REFERENCE = {}


def reference(cfg):
    """``(data, records, model)`` of the plain fp32 teacher, built once per config."""
    if cfg.filename not in _REFERENCE:
        model = build(cfg)
        data = batch(model)
        _REFERENCE[cfg.filename] = (data, teacher_records(model, data)[1], model)
    return _REFERENCE[cfg.filename]


@pytest.mark.parametrize('cfg', [CWD, DKD], ids=['SingleTeacherDistill', 'RoIHeadDistill'])
def test_bf16_teacher_records_reach_losses_in_fp32(cfg):
    """A bf16 teacher's records are fp32 and within bf16 rounding of the fp32 teacher's,
    but not equal to them (the teacher really ran in bf16); its weights are untouched."""
    data, ref, _ = reference(cfg)
    model = build(cfg, teacher_precision='bf16')
    weights = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    losses, records = teacher_records(model, data)
    assert records and len(records) == len(ref)
    for got, want in zip(records, ref):
        assert got.dtype == torch.float32
        scale = want.abs().max().item()
        assert (got - want).abs().max().item() <= 0.05 * scale + 1e-3
    assert any(not torch.equal(g, w) for g, w in zip(records, ref))
    for key, value in model.teacher.state_dict().items():
        assert value.dtype == weights[key].dtype and torch.equal(value, weights[key]), key
    values = [torch.as_tensor(x) for k, v in losses.items() if 'loss' in k
              for x in (v if isinstance(v, (list, tuple)) else [v])]
    assert values and all(torch.isfinite(v).all() for v in values)


@pytest.mark.parametrize('cfg', [CWD, DKD], ids=['SingleTeacherDistill', 'RoIHeadDistill'])
def test_channels_last_teacher_gives_the_same_records(cfg):
    """channels_last changes strides only: the records equal the plain fp32 teacher's
    to float rounding, and the teacher's conv weights are channels_last."""
    data, ref, ref_model = reference(cfg)
    model = build(cfg, teacher_channels_last=True)
    _, records = teacher_records(model, data)
    for got, want in zip(records, ref):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
        # losses get plain tensors: mmrazor's CWD flattens them with .view
        assert got.is_contiguous()
    conv = model.teacher.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not ref_model.teacher.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)


def test_bf16_teacher_gradients_reach_the_student_only():
    """With a bf16 channels_last teacher every distillation loss is finite and has a
    gradient in the student, none in the teacher."""
    model = build(CWD, teacher_precision='bf16', teacher_channels_last=True)
    data = batch(model)
    losses = model.loss(data['inputs'], data['data_samples'])
    distill = sum(v for k, v in losses.items() if k.startswith('distill.'))
    assert torch.isfinite(distill) and distill > 0
    distill.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.student.neck.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())


def test_fp32_teacher_runs_fp32_inside_an_amp_step():
    """teacher_precision='fp32' keeps the teacher out of an outer bf16 autocast; None
    follows it; either way the student stays in the outer autocast (bf16), not in the
    teacher's context."""
    for precision, expected in (('fp32', True), (None, False)):
        model = build(CWD, teacher_precision=precision)
        data = batch(model)
        seen, student = [], []
        model.teacher.neck.register_forward_hook(
            lambda m, i, o: seen.append(all(t.dtype == torch.float32 for t in o)
                                        and torch.is_autocast_enabled('cpu') is False))
        model.student.neck.register_forward_hook(
            lambda m, i, o: student.append(all(t.dtype == torch.bfloat16 for t in o)
                                           and torch.is_autocast_enabled('cpu')))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            model.loss(data['inputs'], data['data_samples'])
        assert seen == [expected], precision
        assert student == [True], precision


def test_precision_arguments_are_checked_at_build():
    """An unknown precision, fp16 without CUDA and a trainable low-precision teacher are
    refused when the model is built, naming the argument."""
    with pytest.raises(ValueError, match='SingleTeacherDistill: teacher_precision must'):
        build(CWD, teacher_precision='int8')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="teacher_precision='fp16' needs a CUDA"):
            build(CWD, teacher_precision='fp16')
    with pytest.raises(ValueError, match='for a frozen teacher'):
        build(CWD, teacher_precision='bf16', teacher_trainable=True)


def test_mmrazor_cwd_runs_on_a_channels_last_teacher():
    """mmrazor's ChannelWiseDivergence flattens with .view, which raises on channels_last
    tensors: the teacher's records reach it in the standard layout (bf16 and fp32
    teachers), with the same value as a plain teacher's."""
    from mmrazor.models.losses import ChannelWiseDivergence
    data, ref, _ = reference(CWD)
    loss = ChannelWiseDivergence(tau=1.0, loss_weight=5.0)
    for precision in ('fp32', 'bf16'):
        model = build(CWD, teacher_precision=precision, teacher_channels_last=True)
        _, records = teacher_records(model, data)
        for got, want in zip(records, ref):
            if got.dim() == 4:
                value = loss(want.clone(), got)
                torch.testing.assert_close(value, loss(want.clone(), want),
                                           rtol=0.05, atol=1e-3)
