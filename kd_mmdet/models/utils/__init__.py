from .standardize import STD_EPS, standardize_channels
from .vlr import (VLR_IOU_MODES, VLRResult, atss_candidates, atss_threshold, bbox_diou,
                  bbox_diou_official, bbox_iou, vlr_mask)

__all__ = ['STD_EPS', 'standardize_channels', 'VLR_IOU_MODES', 'VLRResult', 'atss_candidates', 'atss_threshold', 'bbox_diou',
           'bbox_diou_official', 'bbox_iou', 'vlr_mask']
