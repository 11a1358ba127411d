"""Run at interpreter start by ``kd_mmdet_startup.pth`` (written by scripts/install.sh).

Installs the fixes that must be in place before a process that never imports kd_mmdet
itself (``mim train mmrazor ...``) imports mmrazor; see ``kd_mmdet.compat``. Cheap:
it imports neither torch nor mmengine.
"""
import importlib.util
import os.path as osp

_spec = importlib.util.find_spec('kd_mmdet')
if _spec is not None and _spec.submodule_search_locations:
    _path = osp.join(list(_spec.submodule_search_locations)[0], 'compat.py')
    _compat_spec = importlib.util.spec_from_file_location('kd_mmdet.compat', _path)
    _compat = importlib.util.module_from_spec(_compat_spec)
    _compat_spec.loader.exec_module(_compat)
    _compat.startup()
