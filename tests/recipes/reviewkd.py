"""The COCO ReviewKD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import (D2_MULTI_SCALE, FRCNN_R101_MS3X, FRCNN_X101_MS3X, GFL_R101_MS2X,
                                 RETINA_R101_MS3X, STD, row)

def reviewkd(weight):
    return dict(
        losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=weight)),
        connectors=dict(review=dict(type='kd_mmdet.ReviewKDConnector', in_channels=[256] * 5,
                                    out_channels=256, mid_channels=256)),
        mappings=dict(loss_reviewkd=dict(preds_S='S:fpn->review', preds_T='T:fpn')))


RECIPES = {
    # ---- ReviewKD (dvlab-research/ReviewKD Detection/configs) -----------------------------
    'configs/reviewkd/reviewkd_fpn_faster-rcnn_r101-r18_1x_coco.py': row(
        'ReviewKD', STD, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **reviewkd(1.2)),
    'configs/reviewkd/reviewkd_fpn_faster-rcnn_r101-r50_1x_coco.py': row(
        'ReviewKD', STD, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **reviewkd(1.0)),
    # plan row 2: single-scale, as its baseline
    'configs/reviewkd/reviewkd_fpn_faster-rcnn_x101-r18_1x_coco.py': row(
        'ReviewKD', STD, FRCNN_X101_MS3X, 12, 0.02, **reviewkd(1.2)),
    # no GFL recipe: the one-stage RT50-RT101 settings on GFL's own single-scale 1x
    'configs/reviewkd/reviewkd_fpn_gfl_r101-r50_1x_coco.py': row(
        'ReviewKD', STD, GFL_R101_MS2X, 12, 0.01, **reviewkd(1.0)),
    'configs/reviewkd/reviewkd_fpn_retinanet_r101-r50_1x_coco.py': row(
        'ReviewKD', STD, RETINA_R101_MS3X, 12, 0.01, scales=D2_MULTI_SCALE, **reviewkd(1.0)),
}
