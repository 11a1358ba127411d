"""The COCO MGD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import (FRCNN_R101_2X, FRCNN_X101_MS3X, GFL_R101_MS2X, ONE_STAGE_INHERIT,
                                 RETINA_X101_1X, STD, per_level, row, same_loss)

def mgd(levels, alpha, lam):
    return dict(
        losses=same_loss('loss_mgd_fpn', levels, type='kd_mmdet.MGDLoss', alpha_mgd=alpha),
        connectors={f'mgd{i}': dict(type='kd_mmdet.MGDConnector', student_channels=256,
                                    teacher_channels=256, lambda_mgd=lam) for i in levels},
        mappings=per_level('loss_mgd_fpn', levels, connector='mgd'), clip=35)


RECIPES = {
    # ---- MGD (yzd-v/MGD det/configs/distillers/mgd, mmrazor 1.x) --------------------------
    'configs/mgd/mgd_fpn_faster-rcnn_r101-r50_2x_coco.py': row(
        'MGD', STD, FRCNN_R101_2X, 24, 0.02, **mgd(range(4), 5e-7, 0.45)),
    'configs/mgd/mgd_fpn_faster-rcnn_x101-r18_1x_coco.py': row(
        'MGD', STD, FRCNN_X101_MS3X, 12, 0.02, **mgd(range(4), 5e-7, 0.45)),
    'configs/mgd/mgd_fpn_gfl_r101-r50_1x_coco.py': row(
        'MGD', STD, GFL_R101_MS2X, 12, 0.01, inherit=ONE_STAGE_INHERIT,
        **mgd(range(5), 2e-5, 0.65)),
    'configs/mgd/mgd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'MGD', STD, RETINA_X101_1X, 24, 0.01, inherit=ONE_STAGE_INHERIT,
        **mgd(range(5), 2e-5, 0.65)),
}
