"""What every method's recipe rows share (tests/recipes/<method>.py): the teachers,
training scales, algorithm types, recorders and the row builder."""
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


def row(method, algorithm, teacher, epochs, lr, clip=None, scales=SINGLE_SCALE, inherit=None,
        recorders=None, losses=None, connectors=None, mappings=None, code_mode=None,
        model_args=None):
    return dict(method=method, algorithm=algorithm, teacher=teacher, epochs=epochs, lr=lr,
                clip=clip, scales=scales, inherit=inherit,
                recorders=recorders or dict(student=NECK, teacher=NECK), losses=losses,
                connectors=connectors or {}, mappings=mappings, code_mode=code_mode,
                model_args=model_args)


FRCNN_INHERIT = ('neck', 'rpn_head', 'roi_head')
ONE_STAGE_INHERIT = ('neck', 'bbox_head')
