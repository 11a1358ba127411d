# DKD on the RoI class logits: Faster R-CNN R101 ms-3x (41.8) -> Faster R-CNN R18 1x;
# DKD paper: 35.05, 37.01 with ReviewKD (unverified: the paper's table; the official
# repository lists no detection number).
# Official recipe (megvii-research/mdistiller detection/configs/DKD/DKD-R18-R101.yaml on
# Base-Distillation.yaml): alpha 1, beta 0.25, T 1, loss weight 1; 180k iterations x 8
# images at lr 0.01 = mmdet's 1x; multi-scale training, shorter side one of 640..800
# (configs/_base_/detectron2_distill.py).
# Deviation: their teacher is detectron2's R101-FPN 3x; here mmdet's R101-FPN trained the
# same way (3x, 640-800), 41.8.
_base_ = ['../_base_/pairs/faster-rcnn_r101-r18_1x_coco.py', '../_base_/distillers/dkd_roi.py',
          '../_base_/detectron2_distill.py']

teacher_ckpt = _base_.d2_faster_rcnn_teacher_ckpt
model = dict(
    type='kd_mmdet.RoIHeadDistill',
    teacher=_base_.d2_faster_rcnn_teacher,
    teacher_ckpt=teacher_ckpt,
    distiller=dict(_base_.dkd_roi_distiller, distill_losses=dict(loss_dkd=_base_.dkd_roi_loss)))
train_dataloader = dict(dataset=dict(pipeline=_base_.d2_train_pipeline))

# Mixed precision (docs/usage.md): uncomment to train under mmengine's AMP; the
# frozen teacher follows the step's autocast unless model sets teacher_precision.
# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
