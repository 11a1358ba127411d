# DKD on the RoI class logits, detection plan row 3 (configs/plan/detection_plan.yaml):
# Faster R-CNN X101-64x4d ms-3x (43.1) -> Faster R-CNN R18 1x.
# The authors' R18 recipe (megvii-research/mdistiller detection/configs/DKD/DKD-R18-R101.yaml
# and its DKD defaults): alpha 1, beta 0.25, T 1 on the RoI head's 81 logits (80 classes
# + background); 180k iterations x 8 images at lr 0.01 = mmdet's 1x, kept from the student
# recipe. Deviations: their teacher is detectron2's R101 3x; their inputs are multi-scale
# (shorter side 640-800), here the single-scale pipeline of the R18 1x baseline,
# so the plan's delta compares like with like.
# The authors' input too: add '../_base_/detectron2_distill.py' to _base_ and set
# train_dataloader = dict(dataset=dict(pipeline=_base_.d2_train_pipeline)) (and train the
# baseline the same way).
# Widths: the logits are 81 wide in both models; kd_mmdet.RoIHeadDistill runs the teacher's
# RoI head on the student's sampled RoIs, pooled from the teacher's own 256-wide FPN.
_base_ = ['../_base_/pairs/faster-rcnn_x101-r18_1x_coco.py', '../_base_/distillers/dkd_roi.py']

model = dict(
    type='kd_mmdet.RoIHeadDistill',
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
