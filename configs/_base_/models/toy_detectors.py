# Narrow detectors for the 128 px digits set, trained from scratch: a teacher and a
# student per family (GFL, RetinaNet, Faster R-CNN), defined once here and picked by the
# leaf configs (`model = _base_.gfl_teacher`, `architecture=_base_.gfl_student`).
# COCO defaults changed for from-scratch training: no frozen stage, BN statistics
# trained (frozen_stages=-1, norm_eval=False), no ImageNet init; smaller anchors.
_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)


def _resnet(depth, base_channels, out_indices=(0, 1, 2, 3)):
    return dict(type='ResNet', depth=depth, base_channels=base_channels,
                num_stages=4, out_indices=out_indices, frozen_stages=-1,
                norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                style='pytorch', init_cfg=None)


# ResNet-50 with 64 base channels: C2..C5 = 256, 512, 1024, 2048 channels.
# ResNet-18 with 32 base channels: C2..C5 = 32, 64, 128, 256 channels.
_teacher_backbone = _resnet(50, 64)
_teacher_in = [256, 512, 1024, 2048]
_student_backbone = _resnet(18, 32)
_student_in = [32, 64, 128, 256]

# ---- GFL (Li et al., NeurIPS 2020) -------------------------------------------------
_gfl_head = dict(
    type='GFLHead',
    num_classes=10,
    anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], octave_base_scale=4,
                          scales_per_octave=1, strides=[8, 16, 32, 64, 128]),
    loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
    loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
    reg_max=16,
    loss_bbox=dict(type='GIoULoss', loss_weight=2.0))
_gfl = dict(
    _scope_='mmdet',
    type='GFL',
    data_preprocessor=_preprocessor,
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1,
                   pos_weight=-1, debug=False),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.6), max_per_img=100))
_fpn = dict(type='FPN', start_level=1, add_extra_convs='on_output', num_outs=5)
gfl_teacher = dict(
    _gfl,
    backbone=_teacher_backbone,
    neck=dict(_fpn, in_channels=_teacher_in, out_channels=128),
    bbox_head=dict(_gfl_head, in_channels=128, feat_channels=128, stacked_convs=4))
gfl_student = dict(
    _gfl,
    backbone=_student_backbone,
    neck=dict(_fpn, in_channels=_student_in, out_channels=64),
    bbox_head=dict(_gfl_head, in_channels=64, feat_channels=64, stacked_convs=2))

# ---- RetinaNet (Lin et al., ICCV 2017) ---------------------------------------------
_retina_head = dict(
    type='RetinaHead',
    num_classes=10,
    anchor_generator=dict(type='AnchorGenerator', octave_base_scale=2,
                          scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                          strides=[8, 16, 32, 64, 128]),
    bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                    target_stds=[1.0, 1.0, 1.0, 1.0]),
    loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                  loss_weight=1.0),
    loss_bbox=dict(type='L1Loss', loss_weight=1.0),
    # GroupNorm in the head's stacked convs (COCO RetinaNet has none): trained from
    # scratch, the un-normalised 4-conv teacher head lagged its own 2-conv student
    # (5.6 vs 12.0 mAP after 12 epochs). GFLHead has GN by default.
    norm_cfg=dict(type='GN', num_groups=32, requires_grad=True))
_retina = dict(
    _scope_='mmdet',
    type='RetinaNet',
    data_preprocessor=_preprocessor,
    train_cfg=dict(
        assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                      min_pos_iou=0, ignore_iof_thr=-1),
        sampler=dict(type='PseudoSampler'), allowed_border=-1, pos_weight=-1,
        debug=False),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
_retina_fpn = dict(type='FPN', start_level=1, add_extra_convs='on_input', num_outs=5)
retina_teacher = dict(
    _retina,
    backbone=_teacher_backbone,
    neck=dict(_retina_fpn, in_channels=_teacher_in, out_channels=128),
    bbox_head=dict(_retina_head, in_channels=128, feat_channels=128, stacked_convs=4))
retina_student = dict(
    _retina,
    backbone=_student_backbone,
    neck=dict(_retina_fpn, in_channels=_student_in, out_channels=64),
    bbox_head=dict(_retina_head, in_channels=64, feat_channels=64, stacked_convs=2))


# ---- Faster R-CNN (Ren et al., NeurIPS 2015) ---------------------------------------
def _faster_rcnn(backbone, in_channels, channels, fc_channels):
    return dict(
        _scope_='mmdet',
        type='FasterRCNN',
        data_preprocessor=_preprocessor,
        backbone=backbone,
        neck=dict(type='FPN', in_channels=in_channels, out_channels=channels,
                  num_outs=5),
        rpn_head=dict(
            type='RPNHead',
            in_channels=channels,
            feat_channels=channels,
            anchor_generator=dict(type='AnchorGenerator', scales=[4],
                                  ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                            target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        roi_head=dict(
            type='StandardRoIHead',
            bbox_roi_extractor=dict(
                type='SingleRoIExtractor',
                # 2x2 samples per bin and torchvision's kernel: mmcv's CPU RoIAlign backward took
                # half of a CPU training step.
                roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2,
                               use_torchvision=True),
                out_channels=channels,
                featmap_strides=[4, 8, 16, 32]),
            bbox_head=dict(
                type='Shared2FCBBoxHead',
                in_channels=channels,
                fc_out_channels=fc_channels,
                roi_feat_size=7,
                num_classes=10,
                bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                                target_stds=[0.1, 0.1, 0.2, 0.2]),
                reg_class_agnostic=False,
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False,
                              loss_weight=1.0),
                loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
        train_cfg=dict(
            rpn=dict(
                assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3,
                              min_pos_iou=0.3, match_low_quality=True,
                              ignore_iof_thr=-1),
                sampler=dict(type='RandomSampler', num=256, pos_fraction=0.5,
                             neg_pos_ub=-1, add_gt_as_proposals=False),
                allowed_border=-1, pos_weight=-1, debug=False),
            rpn_proposal=dict(nms_pre=1000, max_per_img=300,
                              nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
            rcnn=dict(
                assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5,
                              min_pos_iou=0.5, match_low_quality=False,
                              ignore_iof_thr=-1),
                # 1-6 objects per image: 128 RoIs per image are plenty (COCO: 512).
                sampler=dict(type='RandomSampler', num=128, pos_fraction=0.25,
                             neg_pos_ub=-1, add_gt_as_proposals=True),
                pos_weight=-1, debug=False)),
        test_cfg=dict(
            rpn=dict(nms_pre=500, max_per_img=300, nms=dict(type='nms', iou_threshold=0.7),
                     min_bbox_size=0),
            rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=100)))


faster_rcnn_teacher = _faster_rcnn(_teacher_backbone, _teacher_in, 128, 256)
faster_rcnn_student = _faster_rcnn(_student_backbone, _student_in, 64, 128)
