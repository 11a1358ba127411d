"""Which distillation method a config's components implement, as the components declare it.

Shared tools (``tools/repro_table.py``) name no method: they ask the registered classes.
A loss or algorithm class of kd_mmdet may declare, as class attributes:

- ``method``: the display name of the method it implements. A loss without it is named
  after its class without ``Loss`` (``CWDLoss`` → ``CWD``); an algorithm without it is a
  framework (``SingleTeacherDistill``), not a method.
- ``upstream_types``: the type names of other libraries' implementations of the same
  method (mmrazor's ``ChannelWiseDivergence`` for ``CWDLoss``), so that a peer config is
  shown under the same name.

A new method therefore adds its name where it lives, in its own loss or algorithm file.
"""
import re
from typing import Dict, Optional


def _short(type_name: str) -> str:
    """``kd_mmdet.CWDLoss`` → ``CWDLoss``."""
    return str(type_name).split('.')[-1]


def _registered() -> Dict[str, type]:
    import kd_mmdet.models  # noqa: F401  (registers every component)
    from kd_mmdet.registry import MODELS
    return dict(MODELS.module_dict)


def method_of_type(type_name: str) -> Optional[str]:
    """The method a loss or algorithm type implements (``kd_mmdet.HCLLoss`` → ``ReviewKD``,
    ``ChannelWiseDivergence`` → ``CWD``); for a loss nobody declares, its name without
    ``Loss``; None for an algorithm that is not a method itself."""
    name = _short(type_name)
    for cls_name, cls in _registered().items():
        if name == cls_name and getattr(cls, 'method', None):
            return cls.method
        if name in getattr(cls, 'upstream_types', ()):
            return cls.method if getattr(cls, 'method', None) else \
                re.sub(r'Loss$', '', cls_name)
    if name.endswith('Loss'):
        return re.sub(r'Loss$', '', name)
    return None


def loss_method(type_name: str) -> str:
    """The method of a distillation loss type, never None: a type that is not declared
    and does not end in ``Loss`` (mmrazor's ``ChannelWiseDivergence`` without its
    declaration) is its own name."""
    return method_of_type(type_name) or _short(type_name)
