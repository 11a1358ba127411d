"""The registries of kd_mmdet: children of mmengine's root registries, scope ``kd_mmdet``.

Because each one hangs directly under mmengine's root, a config can name our components
as ``type='kd_mmdet.<Name>'`` from any OpenMMLab registry: mmrazor's (distillers, recorders,
connectors, losses), mmdet's (heads, detectors, hooks) or mmpretrain's. mmengine resolves
an unknown scope by asking the root, which finds this child. Our own ``DKDLoss``,
``MGDLoss`` and ``MGDConnector`` therefore never collide with mmrazor's of the same name.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='kd_mmdet',
                  locations=['kd_mmdet.models'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='kd_mmdet',
                 locations=['kd_mmdet.engine'])

__all__ = ['MODELS', 'HOOKS']
