"""The COCO PKD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import FRCNN_R101_2X, RETINA_X101_1X, STD, per_level, row, same_loss

def pkd(levels, weight):
    return dict(
        losses=same_loss('loss_pkd_fpn', levels, type='kd_mmdet.PKDLoss', loss_weight=weight),
        mappings=per_level('loss_pkd_fpn', levels))


RECIPES = {
    # ---- PKD (mmrazor 1.x configs/distill/mmdet/pkd) ---------------------------------------
    'configs/pkd/pkd_fpn_faster-rcnn_r101-r50_2x_coco.py': row(
        'PKD', STD, FRCNN_R101_2X, 24, 0.02, **pkd(range(4), 6.0)),
    'configs/pkd/pkd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'PKD', STD, RETINA_X101_1X, 24, 0.01, **pkd(range(4), 10.0)),
}
