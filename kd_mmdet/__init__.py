"""kd_mmdet: knowledge distillation for OpenMMLab detection and classification.

Importing the package applies the upstream fixes in :mod:`kd_mmdet.compat` and
registers every component under the ``kd_mmdet`` scope (see :mod:`kd_mmdet.registry`).
"""
from . import compat

compat.apply_all()

from . import engine, models  # noqa: E402,F401  registers the components
from .registry import HOOKS, MODELS  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'MODELS', 'HOOKS', 'compat']
