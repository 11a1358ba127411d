# CrossKD: RetinaNet R101 2x (38.9) -> RetinaNet R50 2x (37.4); published 39.7 (CrossKD
# README, Wang et al. CVPR 2024).
# Settings of jbwang1997/CrossKD `configs/crosskd/crosskd_r50_retinanet_r101_fpn_2x_coco.py`:
# reused_teacher_head_idx=3 (the teacher's last of 4 stacked convs), KDQualityFocalLoss
# beta 1 weight 1, GIoU on the decoded boxes weight 1, no distribution term
# (../_base_/distillers/crosskd.py); mmdet's RetinaNet 2x schedule (SGD lr 0.01, 8 GPUs x 2
# images), no gradient clipping.
# Deviation: that config's student FPN builds its extra levels from the P5 output
# (add_extra_convs='on_output'); the student here is mmdet's retinanet_r50_fpn_2x_coco
# ('on_input'), the baseline whose 37.4 the README quotes.
_base_ = ['../_base_/pairs/retinanet_r101-r50_2x_coco.py', '../_base_/distillers/crosskd.py']

model = dict(
    type='kd_mmdet.CrossKDDistill',
    distiller=_base_.empty_distiller,
    **_base_.crosskd_retinanet_losses)

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
