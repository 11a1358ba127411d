# The training recipe of the official ReviewKD and DKD detection runs, which are detectron2
# projects: dvlab-research/ReviewKD Detection/configs/Base-Distillation.yaml and
# megvii-research/mdistiller detection/configs/Base-Distillation.yaml.
#   INPUT.MIN_SIZE_TRAIN (640, 672, 704, 736, 768, 800), sampled by "choice" (detectron2's
#   default), longer side at most 1333 (MAX_SIZE_TRAIN default) -> one of six scales per
#   image, as mmdet's RandomChoiceResize with keep_ratio. A leaf sets
#     train_dataloader = dict(dataset=dict(pipeline=_base_.d2_train_pipeline))
#   (a base cannot set train_dataloader itself: the mmdet:: base already does).
#   Teachers: detectron2 model-zoo R101-FPN models trained 3x with the same multi-scale
#   input (their README: "The teacher's weights come from Detectron2's pretrained
#   detector"). Their weights are caffe-style (BGR, std 1) and not in mmdet's zoo; the
#   nearest mmdet models, trained the same way (3x, short side 640-800) with the student's
#   own input normalisation, are below.
d2_min_sizes = (640, 672, 704, 736, 768, 800)
d2_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(1333, s) for s in d2_min_sizes], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
# mmdet zoo faster_rcnn_r101_fpn_mstrain_3x_coco: 41.8 box AP (configs/faster_rcnn/metafile.yml)
d2_faster_rcnn_teacher = dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_ms-3x_coco.py',
                              pretrained=False)
d2_faster_rcnn_teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_mstrain_3x_coco/faster_rcnn_r101_fpn_mstrain_3x_coco_20210524_110822-4d4d2ca8.pth'  # noqa: E501
# mmdet zoo retinanet_r101_fpn_mstrain_3x_coco: 41.0 box AP (configs/retinanet/metafile.yml)
d2_retinanet_teacher = dict(cfg_path='mmdet::retinanet/retinanet_r101_fpn_ms-640-800-3x_coco.py',
                            pretrained=False)
d2_retinanet_teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_mstrain_3x_coco/retinanet_r101_fpn_mstrain_3x_coco_20210720_214650-7ee888e0.pth'  # noqa: E501
