"""The COCO LD configs and the recipes they resolve to (tests/test_recipes.py)."""
from tests.recipes.common import GFL_R101_MS2X, GFL_X101_MS2X, GT, NECK, STD, row

LD_RECORDERS = dict(
    student=dict(head='ModuleOutputs:bbox_head',
                 targets='MethodOutputs:mmdet.models.dense_heads.gfl_head.GFLHead.get_targets',
                 gt=GT),
    teacher=dict(head='ModuleOutputs:bbox_head'))
LD_MAPPING = dict(cls_scores_S='S:head[0]', bbox_preds_S='S:head[1]', cls_scores_T='T:head[0]',
                  bbox_preds_T='T:head[1]', anchors='S:targets[0]', labels='S:targets[1]',
                  data_samples='S:gt[0]')
# The main LD term alone (HikariTJU/LD ld_r18_gflv1_r101_fpn_coco_1x.py: loss_ld 0.25, T 10).
LD_MAIN_ONLY = dict(
    recorders=LD_RECORDERS, mappings=dict(loss_ld=LD_MAPPING),
    losses=dict(loss_ld=dict(type='kd_mmdet.LDHeadLoss', tau=10.0, loss_weight=0.25,
                             vlr_weight=0.0, kd_weight=0.0)))


RECIPES = {
    # ---- LD (HikariTJU/LD configs/ld) -----------------------------------------------------
    'configs/ld/ld_gfl_r101-r18_1x_coco.py': row('LD', STD, GFL_R101_MS2X, 12, 0.01,
                                                 **LD_MAIN_ONLY),
    # ld_r50_gflv1_r101_fpn_coco_1x.py: ld 0.25 + vlr 0.25 (T 10), kd 10 (T 2), im 2.0
    'configs/ld/ld_gfl_r101-r50_1x_coco.py': row(
        'LD', STD, GFL_R101_MS2X, 12, 0.01,
        recorders=dict(student=dict(LD_RECORDERS['student'], **NECK),
                       teacher=dict(LD_RECORDERS['teacher'], **NECK)),
        losses=dict(loss_ld=dict(type='kd_mmdet.LDHeadLoss', tau=10.0, kd_temperature=2.0,
                                 loss_weight=0.25, vlr_weight=0.25, kd_weight=10.0,
                                 im_weight=2.0, vlr_iou='diou')),
        mappings=dict(loss_ld=dict(LD_MAPPING, feats_S='S:fpn', feats_T='T:fpn')),
        code_mode=('vlr_iou', 'diou')),
    'configs/ld/ld_gfl_x101-r18_1x_coco.py': row('LD', STD, GFL_X101_MS2X, 12, 0.01,
                                                 **LD_MAIN_ONLY),
}
