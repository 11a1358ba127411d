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


def distiller_cfg(**overrides):
    cfg = dict(
        type='kd_mmdet.ConfigurableDistiller',
        student_recorders=dict(x=dict(type='ModuleOutputs', source='conv')),
        teacher_recorders=dict(x=dict(type='ModuleOutputs', source='conv')),
        distill_losses=dict(loss_a=dict(type='kd_mmdet.CWDLoss')),
        loss_forward_mappings=dict(loss_a=dict(
            preds_S=dict(from_student=True, recorder='x'),
            preds_T=dict(from_student=False, recorder='x'))))
    cfg.update(overrides)
    return cfg


@pytest.mark.parametrize('kind, source, message', [
    ('FunctionInputs', 'mmdet.models.dense_heads.base_dense_head.unpack_gt_instance',
     r"student_recorders\['r'\] \(FunctionInputs\) source .*: "
     r"'mmdet.models.dense_heads.base_dense_head' has no 'unpack_gt_instance' "
     r"\(did you mean 'unpack_gt_instances'"),
    ('FunctionOutputs', 'mmdet.models.dense_heads.base_dens_head.unpack_gt_instances',
     r"module 'mmdet.models.dense_heads.base_dens_head' cannot be imported"),
    ('MethodOutputs', 'mmdet.models.dense_heads.GFLHead.loss_by_feats',
     r"'mmdet.models.dense_heads.GFLHead' has no 'loss_by_feats' \(did you mean "
     r"'loss_by_feat'"),
    ('MethodInputs', 'torch.Conv2d', r"must read 'package.module.Class.method'"),
    ('MethodInputs', 'torch.nn.Conv2d', r"'torch.nn.Conv2d' is a type, not a Python "
                                        r"function"),
])
def test_function_and_method_sources_resolved_at_build(kind, source, message):
    """mmrazor looks functions up only at the first forward; here the build fails."""
    cfg = distiller_cfg()
    cfg['student_recorders']['r'] = dict(type=kind, source=source)
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


@pytest.mark.parametrize('side', ['student', 'teacher'])
def test_module_source_names_the_model_and_close_names(side):
    """A module source missing from one model says which model, and what is close."""
    d = MODELS.build(distiller_cfg(**{f'{side}_recorders': dict(
        x=dict(type='ModuleOutputs', source='cnov'))}))
    model = torch.nn.Sequential()
    model.conv = torch.nn.Conv2d(1, 2, 1)
    prepare = getattr(d, f'prepare_from_{side}')
    with pytest.raises(ValueError, match=rf"{side}_recorders\['x'\] source 'cnov' is not a "
                                         rf"module of the {side} \(Sequential\) \(did you "
                                         r"mean 'conv'"):
        prepare(model)


@pytest.mark.parametrize('mutate, message', [
    (lambda c: c['loss_forward_mappings'].pop('loss_a'),
     r"distill_losses \['loss_a'\] have no entry in loss_forward_mappings"),
    (lambda c: c['loss_forward_mappings']['loss_a'].pop('preds_T'),
     r"CWDLoss.forward needs preds_T, which the mapping does not give"),
    (lambda c: c['loss_forward_mappings']['loss_a'].update(
        feats=dict(from_student=True, recorder='x')),
     r"CWDLoss.forward has no argument 'feats'; it takes preds_S, preds_T"),
    (lambda c: c['loss_forward_mappings']['loss_a']['preds_T'].update(recorder='y'),
     r"\['preds_T'\]: recorder 'y' is not in teacher_recorders \(x\)"),
    (lambda c: c['loss_forward_mappings']['loss_a']['preds_S'].update(connector='c'),
     r"\['preds_S'\]: connector 'c' is not in connectors \(none\)"),
    (lambda c: c['loss_forward_mappings']['loss_a']['preds_S'].pop('from_student'),
     r"must be a dict with recorder=<name> and from_student=True/False"),
])
def test_loss_forward_mapping_errors_name_the_entry(mutate, message):
    """Each mapping mistake fails at build with the loss and argument named."""
    cfg = distiller_cfg()
    mutate(cfg)
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


@pytest.mark.parametrize('loss, message', [
    (dict(type='kd_mmdet.CWDLos'), r"distill_losses\['loss_a'\]: .*did you mean "
                                   r"kd_mmdet\.CWDLoss"),
    (dict(type='kd_mmdet.CWDLoss', tau=0), r"distill_losses\['loss_a'\]: CWDLoss: tau "
                                           r"must be a finite number > 0, got 0"),
    (dict(type='kd_mmdet.KDLoss', temperature=-1.0), r"KDLoss: temperature .* got -1.0"),
    (dict(type='kd_mmdet.CWDLoss', loss_weight=-1), r"CWDLoss: loss_weight must be a "
                                                    r"finite number >= 0, got -1"),
])
def test_loss_build_errors_name_the_entry(loss, message):
    """Unknown types and bad hyper-parameters fail naming the distill_losses entry."""
    with pytest.raises((KeyError, ValueError), match=message):
        MODELS.build(distiller_cfg(distill_losses=dict(loss_a=loss)))


def test_connector_build_errors_name_the_entry():
    """A mask ratio outside [0, 1) fails naming the connectors entry."""
    cfg = distiller_cfg(connectors=dict(c=dict(type='kd_mmdet.MGDConnector',
                                               student_channels=2, teacher_channels=2,
                                               lambda_mgd=1.0)))
    with pytest.raises(ValueError, match=r"connectors\['c'\]: MGDConnector: lambda_mgd .* "
                                         r"\[0, 1\), got 1.0"):
        MODELS.build(cfg)


def recorded(distiller, student_out, teacher_out):
    """Distiller whose recorders hold one forward of two 1x1 convs of given widths."""
    student, teacher = torch.nn.Sequential(), torch.nn.Sequential()
    student.conv = torch.nn.Conv2d(1, student_out, 1)
    teacher.conv = torch.nn.Conv2d(1, teacher_out, 1)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    with distiller.student_recorders, distiller.teacher_recorders:
        student(torch.zeros(1, 1, 4, 4)), teacher(torch.zeros(1, 1, 4, 4))
    return distiller


def test_recorded_shape_mismatch_names_loss_recorders_and_shapes():
    """CWD on 2 vs 3 channels without a connector: both shapes and recorders named."""
    d = recorded(MODELS.build(distiller_cfg()), 2, 3)
    with pytest.raises(ValueError, match=r"T: loss_a \(CWDLoss\) needs preds_S and preds_T "
                                         r"of one shape, but would get preds_S = student "
                                         r"'x' \(1, 2, 4, 4\) and preds_T = teacher 'x' "
                                         r"\(1, 3, 4, 4\) .* Found by ctx"):
        d.check_recorded_shapes('T', 'ctx')
    assert recorded(MODELS.build(distiller_cfg()), 3, 3).check_recorded_shapes('T', '') == []


def test_recorded_shapes_compared_after_the_connector():
    """A connector that maps 2 to 3 channels makes the shapes agree."""
    cfg = distiller_cfg(connectors=dict(c=dict(type='ConvModuleConnector', in_channel=2,
                                               out_channel=3, norm_cfg=None,
                                               act_cfg=None)))
    cfg['loss_forward_mappings']['loss_a']['preds_S']['connector'] = 'c'
    assert recorded(MODELS.build(cfg), 2, 3).check_recorded_shapes('T', '') == []
    with pytest.raises(ValueError, match=r"connector 'c' \(ConvModuleConnector\) fails on "
                                         r"student 'x' \(1, 4, 4, 4\)"):
        recorded(MODELS.build(cfg), 4, 3).check_recorded_shapes('T', '')


def test_logit_losses_compare_classes_not_rows():
    """KD rows (RoIs, anchors) may differ on a dry run; the class dimension may not."""
    cfg = distiller_cfg(distill_losses=dict(loss_a=dict(type='kd_mmdet.KDLoss')))
    for m in cfg['loss_forward_mappings']['loss_a'].values():
        m['data_idx'] = 0
    d = MODELS.build(cfg)
    d.student_recorders.get_recorder('x')._data_buffer = [(torch.zeros(5, 10),)]
    d.teacher_recorders.get_recorder('x')._data_buffer = [(torch.zeros(7, 10),)]
    assert d.check_recorded_shapes('T', '') == []
    d.teacher_recorders.get_recorder('x')._data_buffer = [(torch.zeros(7, 11),)]
    with pytest.raises(ValueError, match=r'of one shape from dim 1 on'):
        d.check_recorded_shapes('T', '')


def test_unrecorded_inputs_are_reported_not_checked():
    """A recorder that recorded nothing (no targets in a dry run) skips its loss."""
    d = MODELS.build(distiller_cfg())
    d.student_recorders.get_recorder('x')._data_buffer = []
    d.teacher_recorders.get_recorder('x')._data_buffer = [torch.zeros(1, 3, 4, 4)]
    assert d.check_recorded_shapes('T', '') == ['loss_a']
