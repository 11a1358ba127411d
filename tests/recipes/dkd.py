"""The COCO DKD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import D2_MULTI_SCALE, FRCNN_R101_MS3X, FRCNN_X101_MS3X, NECK, ROI, row
from tests.recipes.reviewkd import reviewkd

DKD_RECORDERS = dict(
    student=dict(logits='ModuleOutputs:roi_head.bbox_head',
                 targets='MethodOutputs:mmdet.models.roi_heads.bbox_heads.bbox_head.BBoxHead.'
                         'get_targets'),
    teacher=dict(logits='ModuleOutputs:roi_head.bbox_head'))
DKD_LOSS = dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=0.25, temperature=1.0, loss_weight=1.0,
                return_terms=True)
DKD_MAPPING = dict(preds_S='S:logits[0]', preds_T='T:logits[0]', gt_labels='S:targets[0]')


def dkd(review_weight=None):
    row = dict(recorders=DKD_RECORDERS, losses=dict(loss_dkd=DKD_LOSS),
               mappings=dict(loss_dkd=DKD_MAPPING))
    if review_weight is not None:
        rk = reviewkd(review_weight)
        row['recorders'] = dict(student=dict(DKD_RECORDERS['student'], **NECK),
                                teacher=dict(DKD_RECORDERS['teacher'], **NECK))
        row['losses'] = dict(row['losses'], **rk['losses'])
        row['connectors'] = rk['connectors']
        row['mappings'] = dict(row['mappings'], **rk['mappings'])
    return row


RECIPES = {
    # ---- DKD (megvii-research/mdistiller detection/configs/DKD) ---------------------------
    'configs/dkd/dkd-reviewkd_faster-rcnn_r101-r18_1x_coco.py': row(
        'DKD+ReviewKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd(1.2)),
    'configs/dkd/dkd-reviewkd_faster-rcnn_r101-r50_1x_coco.py': row(
        'DKD+ReviewKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd(1.0)),
    'configs/dkd/dkd_faster-rcnn_r101-r18_1x_coco.py': row(
        'DKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd()),
    'configs/dkd/dkd_faster-rcnn_r101-r50_1x_coco.py': row(
        'DKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd()),
    # plan row 3: single-scale, as its baseline
    'configs/dkd/dkd_faster-rcnn_x101-r18_1x_coco.py': row(
        'DKD', ROI, FRCNN_X101_MS3X, 12, 0.02, **dkd()),
}
