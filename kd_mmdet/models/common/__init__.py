"""The bottom layer of ``kd_mmdet.models``: argument and shape checks
(:mod:`.checks`) and per-channel feature standardisation (:mod:`.standardize`), shared
by losses, connectors, algorithms and model utilities. It imports nothing else of
kd_mmdet, so any of them may import it."""
from .checks import (check_labels, check_positive, check_reduction, check_same_shape,
                     describe)
from .standardize import STD_EPS, standardize_channels

__all__ = ['check_labels', 'check_positive', 'check_reduction', 'check_same_shape',
           'describe', 'STD_EPS', 'standardize_channels']
