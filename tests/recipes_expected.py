"""The recipe each COCO config must resolve to, one row per config (tests/test_recipes.py).

Every value here is the source recipe's (or, where a config documents a deviation, the
deviating value named in its comment and in configs/RECIPES.md): distilled modules and
levels, each loss with all its hyper-parameters (type, weights, temperatures), the
connectors, the teacher config and checkpoint, epochs, learning rate, gradient clipping,
training scales and the official-code switch. Kept apart from the configs on purpose: an
edit of a shared base (configs/_base_/) that changes a recipe makes tests/test_recipes.py
fail until this table and configs/RECIPES.md say so too.

To add a config: add a row to RECIPES below (the helpers build the repetitive parts) and a
line to configs/RECIPES.md. A *_coco.py config without a row fails
test_every_coco_config_has_a_row.

Encodings (see tests/test_recipes.py, which reads the resolved config the same way):
  recorders: {name: '<recorder type>:<source>'}
  mappings:  {loss: {argument: '<S|T>:<recorder>[data_idx]@record_idx-><connector>'}}
             (each part only when set)
  scales:    the (long, short) scales of the training Resize step, one tuple per choice
"""
ZOO = 'https://download.openmmlab.com/mmdetection/v2.0/'

# Teachers: (mmdet config, checkpoint) — box AP in the mmdet 3.3 metafiles.
FRCNN_R101_2X = ('mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py', ZOO + 'faster_rcnn/'
                 'faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_'
                 '20200504_210455-1d2dac9c.pth')  # 39.8
FRCNN_R101_MS3X = ('mmdet::faster_rcnn/faster-rcnn_r101_fpn_ms-3x_coco.py', ZOO + 'faster_rcnn/'
                   'faster_rcnn_r101_fpn_mstrain_3x_coco/faster_rcnn_r101_fpn_mstrain_3x_coco_'
                   '20210524_110822-4d4d2ca8.pth')  # 41.8
FRCNN_X101_MS3X = ('mmdet::faster_rcnn/faster-rcnn_x101-64x4d_fpn_ms-3x_coco.py',
                   ZOO + 'faster_rcnn/faster_rcnn_x101_64x4d_fpn_mstrain_3x_coco/'
                   'faster_rcnn_x101_64x4d_fpn_mstrain_3x_coco_20210524_124528-26c63de6.pth')
GFL_R101_MS2X = ('mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', ZOO + 'gfl/gfl_r101_fpn_mstrain_2x_'
                 'coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth')  # 44.7
GFL_X101_MS2X = ('mmdet::gfl/gfl_x101-32x4d_fpn_ms-2x_coco.py', ZOO + 'gfl/gfl_x101_32x4d_fpn_'
                 'mstrain_2x_coco/gfl_x101_32x4d_fpn_mstrain_2x_coco_20200630_102002-50c1ffdb.pth')
RETINA_R101_2X = ('mmdet::retinanet/retinanet_r101_fpn_2x_coco.py', ZOO + 'retinanet/'
                  'retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')
RETINA_R101_MS3X = ('mmdet::retinanet/retinanet_r101_fpn_ms-640-800-3x_coco.py',
                    ZOO + 'retinanet/retinanet_r101_fpn_mstrain_3x_coco/'
                    'retinanet_r101_fpn_mstrain_3x_coco_20210720_214650-7ee888e0.pth')  # 41.0
RETINA_X101_1X = ('mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py', ZOO + 'retinanet/'
                  'retinanet_x101_64x4d_fpn_1x_coco/retinanet_x101_64x4d_fpn_1x_coco_'
                  '20200130-366f5af1.pth')  # 41.0

SINGLE_SCALE = ((1333, 800), )
# detectron2's MIN_SIZE_TRAIN (640, ..., 800) by choice, MAX_SIZE_TRAIN 1333
D2_MULTI_SCALE = tuple((1333, s) for s in (640, 672, 704, 736, 768, 800))

STD = 'kd_mmdet.SingleTeacherDistill'
ROI = 'kd_mmdet.RoIHeadDistill'
NECK = {'fpn': 'ModuleOutputs:neck'}
GT = 'FunctionInputs:mmdet.models.dense_heads.base_dense_head.unpack_gt_instances'


def per_level(prefix, levels, connector=None, recorder='fpn', index='data_idx', **extra):
    """One mapping per level i: preds_S / preds_T from level i of ``recorder``."""
    out = {}
    for i in levels:
        idx = f'[{i}]' if index == 'data_idx' else f'@{i}'
        student = f'S:{recorder}{idx}' + (f'->{connector}{i}' if connector else '')
        out[f'{prefix}{i}'] = dict(preds_S=student, preds_T=f'T:{recorder}{idx}', **extra)
    return out


def same_loss(prefix, levels, **loss):
    return {f'{prefix}{i}': dict(loss) for i in levels}


def cwd(levels, weight, prefix='loss_cwd_fpn', recorder='fpn', index='data_idx'):
    return dict(
        losses=same_loss(prefix, levels, type='kd_mmdet.CWDLoss', tau=1.0, loss_weight=weight),
        mappings=per_level(prefix, levels, recorder=recorder, index=index))


def fgd(levels, alpha, beta, gamma, lam):
    return dict(
        recorders=dict(student=dict(NECK, gt=GT), teacher=NECK),
        losses=same_loss('loss_fgd_fpn', levels, type='kd_mmdet.FGDLoss', temp=0.5,
                         student_channels=256, teacher_channels=256, alpha_fgd=alpha,
                         beta_fgd=beta, gamma_fgd=gamma, lambda_fgd=lam),
        mappings=per_level('loss_fgd_fpn', levels, data_samples='S:gt[0]'),
        code_mode=('mask_mode', 'paper'), clip=35)


def mgd(levels, alpha, lam):
    return dict(
        losses=same_loss('loss_mgd_fpn', levels, type='kd_mmdet.MGDLoss', alpha_mgd=alpha),
        connectors={f'mgd{i}': dict(type='kd_mmdet.MGDConnector', student_channels=256,
                                    teacher_channels=256, lambda_mgd=lam) for i in levels},
        mappings=per_level('loss_mgd_fpn', levels, connector='mgd'), clip=35)


def reviewkd(weight):
    return dict(
        losses=dict(loss_reviewkd=dict(type='kd_mmdet.HCLLoss', loss_weight=weight)),
        connectors=dict(review=dict(type='kd_mmdet.ReviewKDConnector', in_channels=[256] * 5,
                                    out_channels=256, mid_channels=256)),
        mappings=dict(loss_reviewkd=dict(preds_S='S:fpn->review', preds_T='T:fpn')))


DKD_RECORDERS = dict(
    student=dict(logits='ModuleOutputs:roi_head.bbox_head',
                 targets='MethodOutputs:mmdet.models.roi_heads.bbox_heads.bbox_head.BBoxHead.'
                         'get_targets'),
    teacher=dict(logits='ModuleOutputs:roi_head.bbox_head'))
DKD_LOSS = dict(type='kd_mmdet.DKDLoss', alpha=1.0, beta=0.25, temperature=1.0, loss_weight=1.0,
                return_terms=True)
DKD_MAPPING = dict(preds_S='S:logits[0]', preds_T='T:logits[0]', gt_labels='S:targets[0]')


def dkd(review_weight=None):
    row = dict(recorders=DKD_RECORDERS, losses=dict(loss_dkd=DKD_LOSS),
               mappings=dict(loss_dkd=DKD_MAPPING))
    if review_weight is not None:
        rk = reviewkd(review_weight)
        row['recorders'] = dict(student=dict(DKD_RECORDERS['student'], **NECK),
                                teacher=dict(DKD_RECORDERS['teacher'], **NECK))
        row['losses'] = dict(row['losses'], **rk['losses'])
        row['connectors'] = rk['connectors']
        row['mappings'] = dict(row['mappings'], **rk['mappings'])
    return row


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


def row(method, algorithm, teacher, epochs, lr, clip=None, scales=SINGLE_SCALE, inherit=None,
        recorders=None, losses=None, connectors=None, mappings=None, code_mode=None,
        model_args=None):
    return dict(method=method, algorithm=algorithm, teacher=teacher, epochs=epochs, lr=lr,
                clip=clip, scales=scales, inherit=inherit,
                recorders=recorders or dict(student=NECK, teacher=NECK), losses=losses,
                connectors=connectors or {}, mappings=mappings, code_mode=code_mode,
                model_args=model_args)


def pkd(levels, weight):
    return dict(
        losses=same_loss('loss_pkd_fpn', levels, type='kd_mmdet.PKDLoss', loss_weight=weight),
        mappings=per_level('loss_pkd_fpn', levels))


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


FRCNN_INHERIT = ('neck', 'rpn_head', 'roi_head')
ONE_STAGE_INHERIT = ('neck', 'bbox_head')

RECIPES = {
    # ---- CWD ------------------------------------------------------------------------------
    # mmrazor 0.x cls-head recipe behind 41.9: bbox_head.gfl_cls, record i = level i
    'configs/cwd/cwd_cls-head_gfl_r101-r50_1x_coco.py': row(
        'CWD', STD, GFL_R101_MS2X, 12, 0.01,
        recorders=dict(student={'cls': 'ModuleOutputs:bbox_head.gfl_cls'},
                       teacher={'cls': 'ModuleOutputs:bbox_head.gfl_cls'}),
        **cwd(range(5), 5.0, prefix='loss_cwd_cls', recorder='cls', index='record_idx')),
    # mmrazor 1.x cwd_fpn_frcnn_r101_frcnn_r50_1x_coco: weight 10, 5 levels, lr 0.02
    'configs/cwd/cwd_fpn_faster-rcnn_r101-r18_1x_coco.py': row(
        'CWD', STD, FRCNN_R101_2X, 12, 0.02, **cwd(range(5), 10.0)),
    'configs/cwd/cwd_fpn_faster-rcnn_r101-r50_1x_coco.py': row(
        'CWD', STD, FRCNN_R101_2X, 12, 0.02, **cwd(range(5), 10.0)),
    # mmrazor 1.x GFL FPN recipe (inherits weight 10 from its Faster R-CNN base)
    'configs/cwd/cwd_fpn_gfl_r101-r18_1x_coco.py': row(
        'CWD', STD, GFL_R101_MS2X, 12, 0.01, **cwd(range(5), 10.0)),
    'configs/cwd/cwd_fpn_gfl_r101-r50_1x_coco.py': row(
        'CWD', STD, GFL_R101_MS2X, 12, 0.01, **cwd(range(5), 10.0)),
    # plan row 1: the mmrazor 1.x GFL FPN recipe carried over
    'configs/cwd/cwd_fpn_gfl_x101-r18_1x_coco.py': row(
        'CWD', STD, GFL_X101_MS2X, 12, 0.01, **cwd(range(5), 10.0)),
    # no official R101 -> R50 2x recipe: the X101 recipe's weight 5, 2x, all 5 levels
    'configs/cwd/cwd_fpn_retinanet_r101-r50_2x_coco.py': row(
        'CWD', STD, RETINA_R101_2X, 24, 0.01, **cwd(range(5), 5.0)),
    # mmdetection-distiller: fpn_convs.0..3 (P3..P6), weight 5, 2x, lr 0.01 -> 40.5
    'configs/cwd/cwd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'CWD', STD, RETINA_X101_1X, 24, 0.01, **cwd(range(4), 5.0)),
    # ---- DKD (megvii-research/mdistiller detection/configs/DKD) ---------------------------
    'configs/dkd/dkd-reviewkd_faster-rcnn_r101-r18_1x_coco.py': row(
        'DKD+ReviewKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd(1.2)),
    'configs/dkd/dkd-reviewkd_faster-rcnn_r101-r50_1x_coco.py': row(
        'DKD+ReviewKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd(1.0)),
    'configs/dkd/dkd_faster-rcnn_r101-r18_1x_coco.py': row(
        'DKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd()),
    'configs/dkd/dkd_faster-rcnn_r101-r50_1x_coco.py': row(
        'DKD', ROI, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **dkd()),
    # plan row 3: single-scale, as its baseline
    'configs/dkd/dkd_faster-rcnn_x101-r18_1x_coco.py': row(
        'DKD', ROI, FRCNN_X101_MS3X, 12, 0.02, **dkd()),
    # ---- FGD (yzd-v/FGD configs/distillers/fgd) -------------------------------------------
    'configs/fgd/fgd_fpn_faster-rcnn_r101-r50_2x_coco.py': row(
        'FGD', STD, FRCNN_R101_2X, 24, 0.02, inherit=FRCNN_INHERIT,
        **fgd(range(4), 5e-5, 2.5e-5, 5e-5, 5e-7)),
    'configs/fgd/fgd_fpn_faster-rcnn_x101-r18_1x_coco.py': row(
        'FGD', STD, FRCNN_X101_MS3X, 12, 0.02, inherit=FRCNN_INHERIT,
        **fgd(range(4), 5e-5, 2.5e-5, 5e-5, 5e-7)),
    'configs/fgd/fgd_fpn_gfl_r101-r50_1x_coco.py': row(
        'FGD', STD, GFL_R101_MS2X, 12, 0.01, inherit=ONE_STAGE_INHERIT,
        **fgd(range(5), 1e-3, 5e-4, 5e-4, 5e-6)),
    'configs/fgd/fgd_fpn_retinanet_r101-r50_2x_coco.py': row(
        'FGD', STD, RETINA_R101_2X, 24, 0.01, inherit=ONE_STAGE_INHERIT,
        **fgd(range(5), 1e-3, 5e-4, 5e-4, 5e-6)),
    'configs/fgd/fgd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'FGD', STD, RETINA_X101_1X, 24, 0.01, inherit=ONE_STAGE_INHERIT,
        **fgd(range(5), 1e-3, 5e-4, 5e-4, 5e-6)),
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
    # ---- MGD (yzd-v/MGD det/configs/distillers/mgd, mmrazor 1.x) --------------------------
    'configs/mgd/mgd_fpn_faster-rcnn_r101-r50_2x_coco.py': row(
        'MGD', STD, FRCNN_R101_2X, 24, 0.02, **mgd(range(4), 5e-7, 0.45)),
    'configs/mgd/mgd_fpn_faster-rcnn_x101-r18_1x_coco.py': row(
        'MGD', STD, FRCNN_X101_MS3X, 12, 0.02, **mgd(range(4), 5e-7, 0.45)),
    'configs/mgd/mgd_fpn_gfl_r101-r50_1x_coco.py': row(
        'MGD', STD, GFL_R101_MS2X, 12, 0.01, inherit=ONE_STAGE_INHERIT,
        **mgd(range(5), 2e-5, 0.65)),
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
    # ---- PKD (mmrazor 1.x configs/distill/mmdet/pkd) ---------------------------------------
    'configs/pkd/pkd_fpn_faster-rcnn_r101-r50_2x_coco.py': row(
        'PKD', STD, FRCNN_R101_2X, 24, 0.02, **pkd(range(4), 6.0)),
    'configs/pkd/pkd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'PKD', STD, RETINA_X101_1X, 24, 0.01, **pkd(range(4), 10.0)),
    'configs/mgd/mgd_fpn_retinanet_x101-r50_2x_coco.py': row(
        'MGD', STD, RETINA_X101_1X, 24, 0.01, inherit=ONE_STAGE_INHERIT,
        **mgd(range(5), 2e-5, 0.65)),
    # ---- ReviewKD (dvlab-research/ReviewKD Detection/configs) -----------------------------
    'configs/reviewkd/reviewkd_fpn_faster-rcnn_r101-r18_1x_coco.py': row(
        'ReviewKD', STD, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **reviewkd(1.2)),
    'configs/reviewkd/reviewkd_fpn_faster-rcnn_r101-r50_1x_coco.py': row(
        'ReviewKD', STD, FRCNN_R101_MS3X, 12, 0.02, scales=D2_MULTI_SCALE, **reviewkd(1.0)),
    # plan row 2: single-scale, as its baseline
    'configs/reviewkd/reviewkd_fpn_faster-rcnn_x101-r18_1x_coco.py': row(
        'ReviewKD', STD, FRCNN_X101_MS3X, 12, 0.02, **reviewkd(1.2)),
    # no GFL recipe: the one-stage RT50-RT101 settings on GFL's own single-scale 1x
    'configs/reviewkd/reviewkd_fpn_gfl_r101-r50_1x_coco.py': row(
        'ReviewKD', STD, GFL_R101_MS2X, 12, 0.01, **reviewkd(1.0)),
    'configs/reviewkd/reviewkd_fpn_retinanet_r101-r50_1x_coco.py': row(
        'ReviewKD', STD, RETINA_R101_MS3X, 12, 0.01, scales=D2_MULTI_SCALE, **reviewkd(1.0)),
}

# Students trained alone (baselines): mmdet's R50 1x recipes with a ResNet-18 backbone.
BASELINES = {
    'configs/students/faster-rcnn_r18_fpn_1x_coco.py': dict(type='FasterRCNN', depth=18,
                                                            epochs=12, lr=0.02),
    'configs/students/gfl_r18_fpn_1x_coco.py': dict(type='GFL', depth=18, epochs=12, lr=0.01),
}
