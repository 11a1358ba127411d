"""The registries of kd_mmdet: children of mmengine's root registries, scope ``kd_mmdet``.

Because each one hangs directly under mmengine's root, a config can name our components
as ``type='kd_mmdet.<Name>'`` from any OpenMMLab registry: mmrazor's (distillers, recorders,
connectors, losses), mmdet's (heads, detectors, hooks) or mmpretrain's. mmengine resolves
an unknown scope by asking the root, which finds this child. Our own ``DKDLoss``,
``MGDLoss`` and ``MGDConnector`` therefore never collide with mmrazor's of the same name.

A name this scope does not have (``type='kd_mmdet.CWDLos'``) raises a ``KeyError`` that
lists the close kd_mmdet names, instead of mmengine's "not in the mmrazor::model
registry", which points at the wrong registry.
"""
import difflib
from typing import Optional, Type

from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import Registry


class _ScopeRegistry(Registry):
    """A registry whose failed look-ups name what it has."""

    def get(self, key: str) -> Optional[Type]:
        obj = super().get(key)
        scope, name = self.split_scope_key(key)
        if obj is None and scope in (None, self.scope) and '.' not in name:
            close = difflib.get_close_matches(name, list(self.module_dict), n=3)
            hint = (' (did you mean ' + ', '.join(f'{self.scope}.{c}' for c in close) + '?)'
                    if close else '')
            raise KeyError(f'{self.scope}.{name} is not a registered {self.scope} '
                           f'{self.name}{hint}; {self.scope} {self.name}s: '
                           f'{", ".join(sorted(self.module_dict))}')
        return obj

    def __contains__(self, key: str) -> bool:
        try:
            return self.get(key) is not None
        except KeyError:
            return False


MODELS = _ScopeRegistry('model', parent=MMENGINE_MODELS, scope='kd_mmdet',
                        locations=['kd_mmdet.models'])
HOOKS = _ScopeRegistry('hook', parent=MMENGINE_HOOKS, scope='kd_mmdet',
                       locations=['kd_mmdet.engine'])
OPTIM_WRAPPERS = _ScopeRegistry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS,
                                scope='kd_mmdet', locations=['kd_mmdet.engine'])

__all__ = ['MODELS', 'HOOKS', 'OPTIM_WRAPPERS']
