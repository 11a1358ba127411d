"""The COCO FGD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import (FRCNN_INHERIT, FRCNN_R101_2X, FRCNN_X101_MS3X, GFL_R101_MS2X, GT,
                                 NECK, ONE_STAGE_INHERIT, RETINA_R101_2X, RETINA_X101_1X, STD,
                                 per_level, row, same_loss)

def fgd(levels, alpha, beta, gamma, lam):
    return dict(
        recorders=dict(student=dict(NECK, gt=GT), teacher=NECK),
        losses=same_loss('loss_fgd_fpn', levels, type='kd_mmdet.FGDLoss', temp=0.5,
                         student_channels=256, teacher_channels=256, alpha_fgd=alpha,
                         beta_fgd=beta, gamma_fgd=gamma, lambda_fgd=lam),
        mappings=per_level('loss_fgd_fpn', levels, data_samples='S:gt[0]'),
        code_mode=('mask_mode', 'paper'), clip=35)


RECIPES = {
    # ---- FGD (yzd-v/FGD configs/distillers/fgd) -------------------------------------------
    'configs/fgd/fgd_fpn_faster-rcnn_r101-r50_2x_coco.py': row(
        'FGD', STD, FRCNN_R101_2X, 24, 0.02, inherit=FRCNN_INHERIT,
        **fgd(range(4), 5e-5, 2.5e-5, 5e-5, 5e-7)),
    'configs/fgd/fgd_fpn_faster-rcnn_x101-r18_1x_coco.py': row(
        'FGD', STD, FRCNN_X101_MS3X, 12, 0.02, inherit=FRCNN_INHERIT,
        **fgd(range(4), 5e-5, 2.5e-5, 5e-5, 5e-7)),
    'configs/fgd/fgd_fpn_gfl_r101-r50_1x_coco.py': row(
        'FGD', STD, GFL_R101_MS2X, 12, 0.01, inherit=ONE_STAGE_INHERIT,
        **fgd(range(5), 1e-3, 5e-4, 5e-4, 5e-6)),
    'configs/fgd/fgd_fpn_retinanet_r101-r50_2x_coco.py': row(
        'FGD', STD, RETINA_R101_2X, 24, 0.01, inherit=ONE_STAGE_INHERIT,
        **fgd(range(5), 1e-3, 5e-4, 5e-4, 5e-6)),
    'configs/fgd/fgd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'FGD', STD, RETINA_X101_1X, 24, 0.01, inherit=ONE_STAGE_INHERIT,
        **fgd(range(5), 1e-3, 5e-4, 5e-4, 5e-6)),
}
