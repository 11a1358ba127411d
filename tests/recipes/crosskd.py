"""The COCO CrossKD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import GFL_R101_MS2X, RETINA_R101_2X, row
from tests.recipes.pkd import pkd

CROSSKD = 'kd_mmdet.CrossKDDistill'
NO_RECORDERS = dict(student={}, teacher={})


def crosskd(reg_weight, bbox_weight):
    """The algorithm's own CrossKD arguments (jbwang1997/CrossKD configs): index 3,
    QFL on the teacher's scores beta 1 weight 1, KL on GFL's edge distributions (T 1,
    summed over bins), GIoU on the decoded boxes."""
    return dict(
        reused_teacher_head_idx=3,
        loss_cls_kd=dict(type='kd_mmdet.KDQualityFocalLoss', beta=1.0, loss_weight=1.0),
        loss_reg_kd=None if reg_weight is None else dict(
            type='kd_mmdet.DistributionKLLoss', temperature=1.0, loss_weight=reg_weight),
        loss_bbox_kd=None if bbox_weight is None else dict(
            type='mmdet.GIoULoss', loss_weight=bbox_weight))


RECIPES = {
    # ---- CrossKD (jbwang1997/CrossKD configs/crosskd, configs/crosskd+pkd) -----------------
    'configs/crosskd/crosskd_gfl_r101-r50_1x_coco.py': row(
        'CrossKD', CROSSKD, GFL_R101_MS2X, 12, 0.01, recorders=NO_RECORDERS, losses={},
        mappings={}, model_args=crosskd(4.0, None)),
    'configs/crosskd/crosskd_retinanet_r101-r50_2x_coco.py': row(
        'CrossKD', CROSSKD, RETINA_R101_2X, 24, 0.01, recorders=NO_RECORDERS, losses={},
        mappings={}, model_args=crosskd(None, 1.0)),
    'configs/crosskd/crosskd-pkd_gfl_r101-r50_1x_coco.py': row(
        'CrossKD', CROSSKD, GFL_R101_MS2X, 12, 0.01, model_args=crosskd(4.0, None),
        **pkd(range(5), 6.0)),
}
