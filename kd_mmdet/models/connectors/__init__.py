from .abf_connector import ABF, ReviewKDConnector
from .mgd_connector import MGDConnector, mgd_spatial_mask
from .ofa_connector import OFABranch
from .projector_connector import ProjectorBN

__all__ = ['ABF', 'ReviewKDConnector', 'MGDConnector', 'mgd_spatial_mask',
           'OFABranch', 'ProjectorBN']
