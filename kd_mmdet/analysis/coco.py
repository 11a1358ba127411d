"""COCO evaluation of a detection results file, with per-class AP (pycocotools).

The numbers are pycocotools' ``COCOeval`` (Lin et al., "Microsoft COCO: Common Objects
in Context", ECCV 2014): AP averaged over IoU 0.50:0.95, at 0.50 and 0.75, and over the
small / medium / large area ranges, with at most 100 detections per image. Per-class AP
is read from the same ``eval['precision']`` array that ``COCOeval.summarize`` averages,
so the mean of the per-class APs is the overall AP (as in mmdet's ``classwise`` table).
Undefined values (no ground truth of a class, or none in an area range; COCO's -1) are
``None`` here.
"""
import contextlib
import io
import json
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

# The order of COCOeval.stats after summarize().
SUMMARY_KEYS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl',
                'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl')
# Per-class columns: name -> (IoU threshold or None for 0.50:0.95, area range index).
PER_CLASS_KEYS = {'AP': (None, 0), 'AP50': (0.5, 0), 'AP75': (0.75, 0),
                  'APs': (None, 1), 'APm': (None, 2), 'APl': (None, 3)}


class ResultsError(ValueError):
    """Detections that cannot be evaluated against this ground truth."""


def load_coco_quietly(ann_file: str) -> COCO:
    """``COCO(ann_file)`` without pycocotools' progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(ann_file)


def _defined(value: float) -> Optional[float]:
    return None if value < 0 or np.isnan(value) else float(value)


def per_class_ap(coco_eval: COCOeval) -> List[Dict[str, object]]:
    """AP, AP50, AP75, APs, APm, APl and the number of ground-truth boxes, per class.

    Args:
        coco_eval: a ``COCOeval`` after ``evaluate()`` and ``accumulate()``; its
            ``eval['precision']`` has shape (T IoUs, R recalls, K classes, A areas,
            M max-dets).

    Returns:
        One dict per class in ``params.catIds`` order: ``class`` (its name),
        ``category_id``, ``num_gt`` (non-crowd boxes) and the AP columns.
    """
    precision = coco_eval.eval['precision']
    iou_thrs = coco_eval.params.iouThrs
    coco_gt = coco_eval.cocoGt
    rows = []
    for k, cat_id in enumerate(coco_eval.params.catIds):
        anns = coco_gt.loadAnns(coco_gt.getAnnIds(catIds=[cat_id],
                                                  imgIds=coco_eval.params.imgIds))
        row: Dict[str, object] = {
            'class': coco_gt.loadCats([cat_id])[0]['name'], 'category_id': int(cat_id),
            'num_gt': sum(1 for a in anns if not a.get('iscrowd', 0))}
        for key, (iou, area) in PER_CLASS_KEYS.items():
            p = precision[:, :, k, area, -1]  # -1: the largest maxDets (100)
            if iou is not None:
                p = p[np.isclose(iou_thrs, iou)]
            p = p[p > -1]
            row[key] = float(p.mean()) if p.size else None
        rows.append(row)
    return rows


def evaluate_coco(coco_gt: COCO, results: Union[str, Sequence[dict]],
                  iou_type: str = 'bbox') -> Dict[str, object]:
    """Evaluate detections in COCO results format against ``coco_gt``.

    Args:
        coco_gt: the ground truth (``COCO(ann_file)``).
        results: a results JSON path or its list of
            ``{"image_id", "category_id", "bbox" | "segmentation", "score"}``.
        iou_type: ``'bbox'`` or ``'segm'``.

    Returns:
        ``metrics`` (SUMMARY_KEYS → value or None), ``per_class`` (see
        :func:`per_class_ap`) and ``summary`` (the text ``COCOeval.summarize`` prints).

    Raises:
        ResultsError: no detections, or detections on images the ground truth lacks.
    """
    if iou_type not in ('bbox', 'segm'):
        raise ValueError(f"evaluate_coco: iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    if isinstance(results, str):
        with open(results) as f:
            results = json.load(f)
    results = list(results)
    if not results:
        raise ResultsError('evaluate_coco: the results hold no detection (is the score '
                           'threshold of the model too high for this checkpoint?)')
    unknown = {r['image_id'] for r in results} - set(coco_gt.getImgIds())
    if unknown:
        raise ResultsError(f'evaluate_coco: {len(unknown)} image ids of the results are not '
                           f'in the annotation file, e.g. {sorted(unknown)[:5]}')
    if iou_type == 'segm':
        # With a bbox present pycocotools takes the box area as the instance area, which
        # moves masks between the small/medium/large ranges (as mmdet's CocoMetric does).
        results = [{k: v for k, v in r.items() if k != 'bbox'} for r in results]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        coco_dt = coco_gt.loadRes(results)
        coco_eval = COCOeval(coco_gt, coco_dt, iou_type)
        coco_eval.evaluate()
        coco_eval.accumulate()
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        coco_eval.summarize()
    metrics = {k: _defined(v) for k, v in zip(SUMMARY_KEYS, coco_eval.stats)}
    return dict(metrics=metrics, per_class=per_class_ap(coco_eval),
                summary=summary.getvalue().rstrip())


def format_table(rows: Sequence[Dict[str, object]], columns: Sequence[str]) -> str:
    """A plain-text table; floats with 3 decimals, ``None`` as ``—``."""
    def cell(v: object) -> str:
        if v is None:
            return '—'
        return f'{v:.3f}' if isinstance(v, float) else str(v)

    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        # The first column (names) is left-aligned, numbers right-aligned.
        return '  '.join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths)))

    header = line(columns)
    return '\n'.join([header, '-' * len(header)] + [line(row) for row in cells])
