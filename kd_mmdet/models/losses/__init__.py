from .crosskd_loss import DistributionKLLoss, KDQualityFocalLoss, kd_quality_focal_loss
from .cwd_loss import CWDLoss, cwd_loss
from .fgd_loss import (FGD_MASK_MODES, FGDLoss, GcBlock, fgd_focal_losses, fgd_masks,
                       fgd_masks_official, spatial_channel_attention)
from .hcl_loss import HCLLoss, hcl_level_loss, hcl_loss
from .mgd_loss import MGDLoss, mgd_loss
from .dkd_loss import DKDLoss, dkd_loss, dkd_warmup_factor
from .kd_loss import KDLoss, kd_loss
from .ld_head_loss import LDHeadLoss, finegrained_region
from .ld_loss import LDLoss, ld_loss
from .logsum_loss import LogSumLoss, logsum_loss
from .ofa_loss import OFALoss, ofa_loss
from .pkd_loss import PKDLoss, pkd_loss, pkd_normalize

__all__ = ['CWDLoss', 'cwd_loss']
__all__ += ['FGD_MASK_MODES', 'FGDLoss', 'GcBlock', 'fgd_focal_losses', 'fgd_masks',
            'fgd_masks_official', 'spatial_channel_attention', 'HCLLoss', 'hcl_level_loss',
            'hcl_loss', 'MGDLoss', 'mgd_loss']
__all__ += ['DKDLoss', 'dkd_loss', 'dkd_warmup_factor', 'KDLoss', 'kd_loss', 'LDLoss',
            'ld_loss', 'LDHeadLoss', 'finegrained_region']
__all__ += ['LogSumLoss', 'logsum_loss', 'OFALoss', 'ofa_loss']
__all__ += ['PKDLoss', 'pkd_loss', 'pkd_normalize']
__all__ += ['DistributionKLLoss', 'KDQualityFocalLoss', 'kd_quality_focal_loss']
