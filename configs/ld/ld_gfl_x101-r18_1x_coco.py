# LD, detection plan row 4 (configs/plan/detection_plan.yaml): GFL X101-32x4d ms-2x (45.9)
# -> GFL R18 1x. The authors' R18 recipe (HikariTJU/LD configs/ld/ld_r18_gflv1_r101_fpn_coco_1x.py,
# GFL R101 -> R18, 35.8 -> 36.5): LD on the main region only, loss_ld 0.25 at tau=10 (no
# VLR, no class KD), 1x. Their optimiser line (SGD lr 0.00375 at 3 images per GPU) names
# no GPU count; mmdet's port of the same recipe (configs/ld/ld_r18-gflv1-r101_fpn_1x_coco.py,
# also 36.5) uses the GFL 1x schedule of the student, kept here.
# Widths: both heads predict 80 classes and 4 x 17 bins (reg_max 16) on P3..P7: no connector.
_base_ = ['../_base_/pairs/gfl_x101-r18_1x_coco.py', '../_base_/distillers/ld_gfl.py']

model = dict(
    distiller=dict(
        _base_.ld_distiller,
        distill_losses=dict(loss_ld=dict(
            type='kd_mmdet.LDHeadLoss', tau=10.0, loss_weight=0.25,  # main region
            vlr_weight=0.0, kd_weight=0.0))))  # the R18 recipe has neither term

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
