"""benchmarks/diagnose.py: grad-share summaries and the teacher-quality measurements."""
import json

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from benchmarks import diagnose


def test_summarize_grad_share_splits_training_into_phases(tmp_path):
    path = tmp_path / 'grad_share.json'
    rows = []
    for it in range(0, 60, 10):                         # 6 measurements, iterations 0..50
        rows.append(dict(iter=it, epoch=0, term='task', value=1.0, grad_norm=2.0,
                         share=1.0, cos=1.0))
        rows.append(dict(iter=it, epoch=0, term='distill.x', value=float(it),
                         grad_norm=1.0, share=it / 100, cos=-0.5 if it < 20 else 0.5))
    path.write_text('\n'.join(json.dumps(r) for r in rows))
    table = diagnose.summarize_grad_share(str(path), phases=3)
    x = [r for r in table if r[0] == 'distill.x']
    assert [r[1] for r in x] == ['0–16', '17–33', '34–50']
    assert [float(r[2]) for r in x] == [5.0, 25.0, 45.0]     # mean value per phase
    assert [float(r[4]) for r in x] == [0.05, 0.25, 0.45]    # mean share
    assert [r[5] for r in x] == ['-0.500', '+0.500', '+0.500']


def test_positive_quality_measures_the_assigned_positives(tiny_digits):
    """On a toy GFL detector: one value per ATSS positive (the count get_targets gives),
    accuracies in {0, 1}, IoU and CWD mass within [0, 1]; a head whose class logits are
    made to peak at the positives of their class scores 100 % and a mass near 1."""
    from mmengine.runner import Runner
    from mmdet.registry import MODELS
    cfg = Config.fromfile('configs/toy/gfl_student_digits.py')
    cfg.val_dataloader.dataset.data_root = tiny_digits + '/'
    cfg.val_dataloader.dataset.ann_file = 'annotations/instances_train.json'
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    loader = Runner.build_dataloader(dict(cfg.val_dataloader, num_workers=0,
                                          persistent_workers=False))
    data = model.data_preprocessor(next(iter(loader)), False)
    stats = diagnose.positive_quality(model, data)
    total = sum(len(v['cls']) for v in stats.values())
    assert total > 0
    for v in stats.values():
        assert len(v['cls']) == len(v['score']) == len(v['iou'])
        assert set(v['cls']) <= {0.0, 1.0}
        assert all(0 <= x <= 1 for x in v['iou'] + v['mass'] + v['score'])

    # An oracle head: class logits +30 at each positive for its class, -30 elsewhere.
    head = model.bbox_head
    real_forward = head.forward

    def oracle(feats):
        cls_scores, bbox_preds = real_forward(feats)
        metas = [s.metainfo for s in data['data_samples']]
        anchors, valid = head.get_anchors([c.shape[-2:] for c in cls_scores], metas,
                                          device=cls_scores[0].device)
        labels = head.get_targets(anchors, valid, [s.gt_instances for s in
                                                    data['data_samples']], metas)[1]
        out = []
        for cls, lab in zip(cls_scores, labels):
            n, c, h, w = cls.shape
            logits = torch.full((n, h * w, c), -30.0)
            pos = lab < c
            logits[pos, lab[pos]] = 30.0
            out.append(logits.reshape(n, h, w, c).permute(0, 3, 1, 2))
        return out, bbox_preds

    head.forward = oracle
    perfect = diagnose.positive_quality(model, data)
    cls = [x for v in perfect.values() for x in v['cls']]
    mass = [x for v in perfect.values() for x in v['mass']]
    assert len(cls) == total and min(cls) == 1.0
    assert min(mass) > 0.99


def test_swap_predictions_mixes_class_scores_and_edge_distributions(tiny_digits):
    """A 'teacher' that is the student with only its box branch (``gfl_reg``) redrawn:
    class scores of either with the student's boxes are the student's prediction, and
    the student's class scores with the teacher's boxes are the teacher's prediction."""
    import copy
    from mmengine.runner import Runner
    from mmdet.registry import MODELS
    cfg = Config.fromfile('configs/toy/gfl_student_digits.py')
    cfg.model.test_cfg.score_thr = 0.0  # an untrained head scores under the 0.05 default
    cfg.val_dataloader.dataset.data_root = tiny_digits + '/'
    init_default_scope('mmdet')
    torch.manual_seed(0)
    student = MODELS.build(cfg.model).eval()
    teacher = copy.deepcopy(student)
    torch.nn.init.normal_(teacher.bbox_head.gfl_reg.weight, std=0.5)
    loader = Runner.build_dataloader(dict(cfg.val_dataloader, num_workers=0,
                                          persistent_workers=False))
    batch = next(iter(loader))
    preds = diagnose.swap_predictions(student, teacher, batch)
    assert set(preds) == {(c, b) for c in diagnose.SOURCES for b in diagnose.SOURCES}

    def own(model):
        data = model.data_preprocessor(batch, False)
        with torch.no_grad():
            return model.predict(data['inputs'], data['data_samples'])

    def same(a, b):
        return all(torch.equal(x.pred_instances.bboxes, y.pred_instances.bboxes) and
                   torch.equal(x.pred_instances.scores, y.pred_instances.scores)
                   for x, y in zip(a, b))

    student_own, teacher_own = own(student), own(teacher)
    assert not same(student_own, teacher_own)  # the redrawn box branch moves the boxes
    assert same(preds[('student', 'student')], student_own)
    assert same(preds[('teacher', 'student')], student_own)
    assert same(preds[('student', 'teacher')], teacher_own)
    assert same(preds[('teacher', 'teacher')], teacher_own)


def test_swap_predictions_refuses_heads_with_different_bins(tiny_digits):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile('configs/toy/gfl_student_digits.py')
    student = MODELS.build(cfg.model)
    cfg.model.bbox_head.reg_max = 8
    other = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='reg_max'):
        diagnose.swap_predictions(student, other, {})


@pytest.mark.parametrize('layout', ['mmrazor', 'mmdet'])
def test_load_student_puts_a_distilled_student_into_the_baseline_detector(tmp_path, layout):
    """The student weights of an mmrazor checkpoint (``architecture.``, beside ``teacher.``
    and connector keys) or of mmdet's KD detector (top level) land in the baseline's
    detector unchanged; a student of another shape is refused."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile('configs/toy/gfl_student_digits.py')
    init_default_scope('mmdet')
    torch.manual_seed(1)
    trained = MODELS.build(cfg.model)
    state = trained.state_dict()
    if layout == 'mmrazor':
        state = {**{f'architecture.{k}': v for k, v in state.items()},
                 'teacher.backbone.conv1.weight': torch.zeros(1),
                 'crosskd_connectors.0.weight': torch.zeros(1)}
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    torch.save(dict(state_dict=state), run_dir / 'epoch_1.pth')
    command = ('OMP_NUM_THREADS=2 python tools/train.py configs/toy/gfl_student_digits.py '
               '--epochs 1 --work-dir x --cfg-options randomness.seed=0')
    baseline = dict(name='gfl_student', command=command, work_dir='unused', epochs=1)
    run = dict(name='method', work_dir=str(run_dir), epochs=1)
    model = diagnose.load_student(baseline, run)
    assert not model.training
    loaded = model.state_dict()
    assert loaded.keys() == trained.state_dict().keys()
    assert all(torch.equal(loaded[k], v) for k, v in trained.state_dict().items())

    cfg.model.bbox_head.reg_max = 8  # another head: the load must fail, not skip keys
    other = MODELS.build(cfg.model).state_dict()
    torch.save(dict(state_dict=other), run_dir / 'epoch_1.pth')
    with pytest.raises((ValueError, RuntimeError), match='gfl_reg|does not fit'):
        diagnose.load_student(baseline, run)


def test_eval_data_reads_the_train_split_with_the_val_pipeline(tiny_digits):
    cfg = Config.fromfile('configs/toy/gfl_student_digits.py')
    cfg.val_dataloader.dataset.data_root = tiny_digits + '/'
    cfg.val_evaluator.ann_file = tiny_digits + '/annotations/instances_val.json'
    init_default_scope('mmdet')
    val, val_eval = diagnose.eval_data(cfg, 'val')
    train, train_eval = diagnose.eval_data(cfg, 'train')
    assert (len(val.dataset), len(train.dataset)) == (8, 24)  # the fixture's two splits
    assert val_eval.ann_file.endswith('instances_val.json')
    assert train_eval.ann_file.endswith('instances_train.json')
    assert cfg.val_evaluator.ann_file.endswith('instances_val.json')  # cfg untouched
    batch = next(iter(train))
    assert all('train' in s.img_path for s in batch['data_samples'])
    assert not any('flip' in str(t) for t in train.dataset.pipeline.transforms)
    with pytest.raises(ValueError, match='split'):
        diagnose.eval_data(cfg, 'test')
