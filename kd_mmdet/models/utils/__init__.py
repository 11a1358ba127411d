from .vlr import VLRResult, atss_candidates, atss_threshold, bbox_diou, bbox_iou, vlr_mask

__all__ = ['VLRResult', 'atss_candidates', 'atss_threshold', 'bbox_diou', 'bbox_iou',
           'vlr_mask']
