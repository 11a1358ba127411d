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


# Two classes' boxes shifted right by a fraction f of their width: IoU (1 - f) / (1 + f).
# '3' by 0.2 (IoU 2/3: matched at IoU 0.50 ... 0.65, 4 of COCO's 10 thresholds), '7' by
# 0.32 (IoU 0.515: matched at 0.50 only). Class: (shift, AP, AP50, AP75).
SHIFTED = {'3': (0.2, 0.4, 1.0, 0.0), '7': (0.32, 0.1, 1.0, 0.0)}


def test_shifted_classes_fill_their_own_rows_and_iou_columns(tiny_digits, tmp_path, capsys):
    """Ground truth as results with two classes' boxes shifted (SHIFTED): those rows get
    AP50 = 1, AP75 = 0 and AP 0.4 and 0.1, every other class keeps 1, the overall AP is
    the mean. Swapped class rows or a wrong IoU column (e.g. AP50 read at 0.55, AP75 at
    0.5) fail; JSON, CSV and the printed table agree."""
    ann = val_ann(tiny_digits)
    with open(ann) as f:
        names = {c['id']: c['name'] for c in json.load(f)['categories']}
    results = ground_truth_as_results(ann)
    for r in results:
        if names[r['category_id']] in SHIFTED:
            x, y, w, h = r['bbox']
            r['bbox'] = [x + SHIFTED[names[r['category_id']]][0] * w, y, w, h]
    path = tmp_path / 'shifted.bbox.json'
    path.write_text(json.dumps(results))
    out_json, out_csv = tmp_path / 'eval.json', tmp_path / 'eval.csv'
    assert coco_eval.main(['--results', str(path), '--ann', ann, '--out-json', str(out_json),
                           '--out-csv', str(out_csv)]) == 0
    report = json.loads(out_json.read_text())
    rows = {row['class']: row for row in report['per_class']}
    csv_rows = {r['class']: r for r in csv.DictReader(out_csv.open())}
    printed = {cells[0]: cells for cells in
               (line.split() for line in capsys.readouterr().out.splitlines()) if cells}
    for name, row in rows.items():
        _, ap, ap50, ap75 = SHIFTED.get(name, (0, 1.0, 1.0, 1.0))
        assert row['num_gt'] > 0
        assert (row['AP'], row['AP50'], row['AP75']) == pytest.approx((ap, ap50, ap75)), row
        for area in ('APs', 'APm'):  # whichever size ranges hold this class's boxes
            assert row[area] is None or row[area] == pytest.approx(ap), row
        assert [csv_rows[name][k] for k in ('AP', 'AP50', 'AP75')] == \
            [f'{v:.4f}' for v in (ap, ap50, ap75)]
        assert printed[name][2:5] == [f'{v:.3f}' for v in (ap, ap50, ap75)]
    assert report['metrics']['AP'] == pytest.approx((8 + 0.4 + 0.1) / 10)
    assert report['metrics']['AP50'] == pytest.approx(1.0)
    assert report['metrics']['AP75'] == pytest.approx(0.8)
    assert csv_rows['all']['AP'] == '0.8500'


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
