from .vlr import (VLR_IOU_MODES, VLRResult, atss_candidates, atss_threshold, bbox_diou,
                  bbox_diou_official, bbox_iou, vlr_mask)

__all__ = ['VLR_IOU_MODES', 'VLRResult', 'atss_candidates', 'atss_threshold', 'bbox_diou',
           'bbox_diou_official', 'bbox_iou', 'vlr_mask']
