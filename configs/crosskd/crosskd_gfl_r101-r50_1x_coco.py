# CrossKD: GFL R101 ms-2x (44.7 in mmdet's zoo; 44.9 in the CrossKD README) -> GFL R50 1x
# (40.2); published 43.7 (CrossKD README and paper, Wang et al. CVPR 2024).
# Settings of jbwang1997/CrossKD `configs/crosskd/crosskd_r50_gflv1_r101-2x-ms_fpn_1x_coco.py`
# on master (87e156a4), the file the README links for 43.7: the student's head features
# after 3 of its 4 stacked convs enter the teacher head's last conv
# (reused_teacher_head_idx=3); KDQualityFocalLoss beta 1 weight 1, KL on the edge
# distributions T 1 summed over the bins weight 4, no GIoU term
# (../_base_/distillers/crosskd.py); mmdet's 1x schedule (SGD lr 0.01, 8 GPUs x 2 images),
# no gradient clipping; same student and teacher as the official one.
# The file's version at commit 9f695b4e (unmerged branches only) has KL weight 3 and GIoU
# weight 2: `**_base_.crosskd_gfl_losses_9f695b4e` below selects it.
_base_ = ['../_base_/pairs/gfl_r101-r50_1x_coco.py', '../_base_/distillers/crosskd.py']

model = dict(
    type='kd_mmdet.CrossKDDistill',
    distiller=_base_.empty_distiller,
    **_base_.crosskd_gfl_losses)

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
