"""The COCO CWD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import (FRCNN_R101_2X, GFL_R101_MS2X, GFL_X101_MS2X, RETINA_R101_2X,
                                 RETINA_X101_1X, STD, per_level, row, same_loss)

def cwd(levels, weight, prefix='loss_cwd_fpn', recorder='fpn', index='data_idx'):
    return dict(
        losses=same_loss(prefix, levels, type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=weight),
        mappings=per_level(prefix, levels, recorder=recorder, index=index))


RECIPES = {
    # ---- CWD ------------------------------------------------------------------------------
    # mmrazor 0.x cls-head recipe behind 41.9: bbox_head.gfl_cls, record i = level i
    'configs/cwd/cwd_cls-head_gfl_r101-r50_1x_coco.py': row(
        'CWD', STD, GFL_R101_MS2X, 12, 0.01,
        recorders=dict(student={'cls': 'ModuleOutputs:bbox_head.gfl_cls'},
                       teacher={'cls': 'ModuleOutputs:bbox_head.gfl_cls'}),
        **cwd(range(5), 5.0, prefix='loss_cwd_cls', recorder='cls', index='record_idx')),
    # mmrazor 1.x cwd_fpn_frcnn_r101_frcnn_r50_1x_coco: weight 10, 5 levels, lr 0.02
    'configs/cwd/cwd_fpn_faster-rcnn_r101-r18_1x_coco.py': row(
        'CWD', STD, FRCNN_R101_2X, 12, 0.02, **cwd(range(5), 10.0)),
    'configs/cwd/cwd_fpn_faster-rcnn_r101-r50_1x_coco.py': row(
        'CWD', STD, FRCNN_R101_2X, 12, 0.02, **cwd(range(5), 10.0)),
    # mmrazor 1.x GFL FPN recipe (inherits weight 10 from its Faster R-CNN base)
    'configs/cwd/cwd_fpn_gfl_r101-r18_1x_coco.py': row(
        'CWD', STD, GFL_R101_MS2X, 12, 0.01, **cwd(range(5), 10.0)),
    'configs/cwd/cwd_fpn_gfl_r101-r50_1x_coco.py': row(
        'CWD', STD, GFL_R101_MS2X, 12, 0.01, **cwd(range(5), 10.0)),
    # plan row 1: the mmrazor 1.x GFL FPN recipe carried over
    'configs/cwd/cwd_fpn_gfl_x101-r18_1x_coco.py': row(
        'CWD', STD, GFL_X101_MS2X, 12, 0.01, **cwd(range(5), 10.0)),
    # no official R101 -> R50 2x recipe: the X101 recipe's weight 5, 2x, all 5 levels
    'configs/cwd/cwd_fpn_retinanet_r101-r50_2x_coco.py': row(
        'CWD', STD, RETINA_R101_2X, 24, 0.01, **cwd(range(5), 5.0)),
    # mmdetection-distiller: fpn_convs.0..3 (P3..P6), weight 5, 2x, lr 0.01 -> 40.5
    'configs/cwd/cwd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'CWD', STD, RETINA_X101_1X, 24, 0.01, **cwd(range(4), 5.0)),
}
