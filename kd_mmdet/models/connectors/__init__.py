from .abf_connector import ABF, ReviewKDConnector
from .mgd_connector import MGDConnector, mgd_spatial_mask

__all__ = ['ABF', 'ReviewKDConnector', 'MGDConnector', 'mgd_spatial_mask']
