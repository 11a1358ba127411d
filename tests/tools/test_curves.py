"""kd_mmdet.analysis.curves: reading scalars.json and grouping losses into panels."""
import json

from kd_mmdet.analysis.curves import loss_panels, loss_term, metric_curve, read_scalars


def test_loss_terms_group_student_and_plain_runs_together():
    """student.loss_cls (distillation run) and loss_cls (plain run) share a panel."""
    assert loss_term('loss') == ('total', 'loss')
    assert loss_term('student.loss_cls') == ('student', 'loss_cls')
    assert loss_term('loss_cls') == ('student', 'loss_cls')
    assert loss_term('distill.loss_cwd_fpn0') == ('distill', 'loss_cwd_fpn0')
    assert loss_term('teacher.loss_cls') == ('teacher', 'loss_cls')


def test_panels_order_total_student_distill():
    """Total first, then own losses, then distillation terms; lr and acc are not losses."""
    runs = {
        'cwd': [dict(iter=1, epoch=1, lr=0.1, loss=3.0, **{'distill.loss_cwd': 1.0,
                                                           'student.loss_cls': 2.0,
                                                           'student.acc': 50.0})],
        'base': [dict(iter=5, epoch=1, loss=2.5, loss_cls=2.5)],
    }
    panels = loss_panels(runs)
    assert list(panels) == [('total', 'loss'), ('student', 'loss_cls'),
                            ('distill', 'loss_cwd')]
    assert panels[('student', 'loss_cls')] == {'cwd': ([1], [2.0]), 'base': ([5], [2.5])}


def test_read_scalars_splits_train_and_val(tmp_path):
    """Lines with `iter` are training lines; the rest are validation lines."""
    path = tmp_path / 'scalars.json'
    lines = [dict(iter=1, epoch=1, loss=1.0), {'coco/bbox_mAP': 0.2, 'step': 1},
             dict(iter=2, epoch=2, loss=0.5), {'coco/bbox_mAP': 0.3,
                                               'teacher.coco/bbox_mAP': 0.4, 'step': 2}]
    path.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    train, val = read_scalars(str(path))
    assert [r['iter'] for r in train] == [1, 2]
    assert metric_curve(val, 'coco/bbox_mAP') == ([1, 2], [0.2, 0.3])
    assert metric_curve(val, 'teacher.coco/bbox_mAP') == ([2], [0.4])
