# LD, main term only: GFL R101 ms-2x (44.7) -> GFL R18 1x; 35.8 -> 36.5 (HikariTJU/LD README
# and mmdet configs/ld/README.md). Both report it for the main LD term alone: HikariTJU/LD
# configs/ld/ld_r18_gflv1_r101_fpn_coco_1x.py and mmdet's ld_r18-gflv1-r101_fpn_1x_coco.py
# set only loss_ld (KnowledgeDistillationKLDivLoss, weight 0.25, T 10) — no VLR, no class
# KD, no imitation — on the mmdet zoo teacher gfl_r101_fpn_mstrain_2x_coco_20200629_200126.
# Deviation: batch 16 at lr 0.01 (mmdet's GFL 1x, as mmdet 3.x's LD config); the LD
# repository's config trains 3 images per GPU at lr 0.00375 (mini-batch 6 in mmdet's README),
# the same learning rate per image.
_base_ = ['../_base_/pairs/gfl_r101-r18_1x_coco.py', '../_base_/distillers/ld_gfl.py']

model = dict(
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, loss_weight=0.25,
            vlr_weight=0.0, kd_weight=0.0))))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
