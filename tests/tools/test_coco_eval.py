"""tools/coco_eval.py on saved results files (no model): the numbers and the outputs."""
import csv
import json
import os.path as osp

import pytest

from kd_mmdet.analysis.coco import evaluate_coco, load_coco_quietly
from tests.tools import load_tool

coco_eval = load_tool('tools/coco_eval.py')


def val_ann(root):
    return osp.join(root, 'annotations', 'instances_val.json')


def ground_truth_as_results(ann_file):
    """Every non-crowd ground-truth box as a detection of score 1."""
    with open(ann_file) as f:
        anns = json.load(f)['annotations']
    return [dict(image_id=a['image_id'], category_id=a['category_id'], bbox=a['bbox'],
                 score=1.0) for a in anns if not a.get('iscrowd', 0)]


def test_ground_truth_results_score_one_everywhere(tiny_digits, tmp_path, capsys):
    """The ground truth itself has AP 1 overall and per class; JSON and CSV say so."""
    results = tmp_path / 'gt.bbox.json'
    results.write_text(json.dumps(ground_truth_as_results(val_ann(tiny_digits))))
    out_json, out_csv = tmp_path / 'eval.json', tmp_path / 'eval.csv'
    assert coco_eval.main(['--results', str(results), '--ann', val_ann(tiny_digits),
                           '--out-json', str(out_json), '--out-csv', str(out_csv)]) == 0
    printed = capsys.readouterr().out
    assert 'Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000' \
        in printed
    report = json.loads(out_json.read_text())
    assert report['metrics']['AP'] == pytest.approx(1.0)
    assert report['metrics']['AP50'] == pytest.approx(1.0)
    assert report['metrics']['AP75'] == pytest.approx(1.0)
    assert len(report['per_class']) == 10
    for row in report['per_class']:
        assert row['num_gt'] > 0 and row['AP'] == pytest.approx(1.0), row
    rows = list(csv.DictReader(out_csv.open()))
    assert list(rows[0]) == coco_eval.PER_CLASS_COLUMNS
    assert rows[0]['class'] == 'all' and float(rows[0]['AP']) == pytest.approx(1.0)
    assert [r['class'] for r in rows[1:]] == [str(d) for d in range(10)]


def test_per_class_mean_is_overall_ap(tiny_digits):
    """Imperfect detections: the mean of the per-class APs is COCOeval's AP."""
    results = ground_truth_as_results(val_ann(tiny_digits))
    for i, r in enumerate(results):
        x, y, w, h = r['bbox']
        r['bbox'] = [x + (i % 4) * 0.15 * w, y, w, h]  # some boxes shifted off
        r['score'] = 1.0 - 0.01 * i
    result = evaluate_coco(load_coco_quietly(val_ann(tiny_digits)), results)
    per_class = [r['AP'] for r in result['per_class'] if r['AP'] is not None]
    assert 0.0 < result['metrics']['AP'] < 1.0
    assert sum(per_class) / len(per_class) == pytest.approx(result['metrics']['AP'], abs=1e-9)


def test_undefined_area_range_is_none(tiny_digits):
    """A 96 px image holds no large (> 96²) box: APl is None (COCO's -1), not a number."""
    result = evaluate_coco(load_coco_quietly(val_ann(tiny_digits)),
                           ground_truth_as_results(val_ann(tiny_digits)))
    assert result['metrics']['APl'] is None
    assert all(r['APl'] is None for r in result['per_class'])


def test_results_on_unknown_images_fail_clearly(tiny_digits, capsys, tmp_path):
    """Detections on an image the annotation file lacks: exit 1 with the ids."""
    results = tmp_path / 'bad.json'
    results.write_text(json.dumps([dict(image_id=999, category_id=1, bbox=[0, 0, 5, 5],
                                         score=0.5)]))
    assert coco_eval.main(['--results', str(results), '--ann', val_ann(tiny_digits)]) == 1
    assert '[999]' in capsys.readouterr().err


def test_needs_a_model_or_results():
    """Neither CONFIG CHECKPOINT nor --results: argparse refuses."""
    with pytest.raises(SystemExit):
        coco_eval.parse_args([])
    with pytest.raises(SystemExit):
        coco_eval.parse_args(['--results', 'r.json'])
