"""The student of a distillation checkpoint as a plain mmdet / mmpretrain checkpoint.

mmrazor algorithms hold the student as ``architecture``, the teacher as ``teacher`` and
connectors as ``distiller``; their checkpoints prefix every key accordingly, so the
student's own config cannot load them — the question mmrazor users ask most
(open-mmlab/mmrazor#76, #157, #571, #594). :func:`export_checkpoint` keeps only the
``architecture.*`` keys, prefix stripped, and a ``meta`` that ``torch.load(...,
weights_only=True)`` reads on a bare torch. ``tools/export_student.py`` (after training)
and :class:`kd_mmdet.engine.hooks.StudentCheckpointHook` (during training) both write
what this module returns.
"""
import os.path as osp
from collections import Counter, OrderedDict
from typing import Dict, Sequence, Tuple

import torch

STUDENT_PREFIX = 'architecture.'  # mmrazor's BaseAlgorithm.architecture is the student
META_KEYS = ('dataset_meta', 'epoch', 'iter', 'mmengine_version')


def split_state_dict(state_dict: Dict[str, object], keep_prefix: str = STUDENT_PREFIX,
                     drop_prefixes: Sequence[str] = ()
                     ) -> Tuple['OrderedDict[str, object]', Dict[str, int]]:
    """The sub-model's weights with ``keep_prefix`` stripped, and what was dropped.

    Args:
        state_dict: the distillation model's state dict.
        keep_prefix: prefix of the sub-model to keep, with its trailing dot.
        drop_prefixes: prefixes, relative to the kept sub-model, of keys to drop.

    Returns:
        ``(kept, dropped)``: the stripped state dict and, per dropped prefix (the
        top-level part, or ``keep_prefix + drop_prefix``), how many keys it had.
    """
    kept: 'OrderedDict[str, object]' = OrderedDict()
    dropped: Counter = Counter()
    for key, value in state_dict.items():
        if not key.startswith(keep_prefix):
            dropped[key.split('.', 1)[0] + '.'] += 1
            continue
        name = key[len(keep_prefix):]
        hit = next((p for p in drop_prefixes if name.startswith(p)), None)
        if hit is not None:
            dropped[keep_prefix + hit] += 1
        else:
            kept[name] = value
    return kept, dict(dropped)


def is_plain(obj: object) -> bool:
    """Made only of dicts (str keys), lists, tuples, str, int, float, bool and None: what
    ``torch.load(weights_only=True)`` reads without allow-listing (numpy scalars are not:
    hence exact types)."""
    if obj is None or type(obj) in (str, int, float, bool):
        return True
    if type(obj) in (list, tuple):
        return all(is_plain(v) for v in obj)
    if type(obj) is dict:
        return all(type(k) is str and is_plain(v) for k, v in obj.items())
    return False


def export_checkpoint(checkpoint: Dict[str, object], source: str,
                      keep_prefix: str = STUDENT_PREFIX, drop_prefixes: Sequence[str] = ()
                      ) -> Tuple[Dict[str, object], Dict[str, int]]:
    """The plain checkpoint of one sub-model of a loaded distillation checkpoint.

    Args:
        checkpoint: what ``CheckpointLoader.load_checkpoint`` returned (a dict with
            ``state_dict`` and ``meta``, or a bare state dict).
        source: the file it was read from, recorded in ``meta['exported_from']``.
        keep_prefix: the sub-model to keep (``architecture.``: the student).
        drop_prefixes: keys of the kept sub-model to leave out (training-only branches).

    Returns:
        ``(out, dropped)``: ``out = dict(meta=..., state_dict=...)`` to ``torch.save``, with
        every tensor on its own storage (a view would save the storage it looks into) and
        ``meta`` reduced to ``META_KEYS`` that are plain; ``dropped`` as in
        :func:`split_state_dict`. ``out['state_dict']`` is empty when no key has
        ``keep_prefix``.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    kept, dropped = split_state_dict(state_dict, keep_prefix, drop_prefixes)
    kept = OrderedDict((k, v.detach().clone() if torch.is_tensor(v) else v)
                       for k, v in kept.items())
    old_meta = checkpoint.get('meta') or {}
    meta = {k: old_meta[k] for k in META_KEYS if k in old_meta and is_plain(old_meta[k])}
    meta['exported_from'] = dict(checkpoint=osp.abspath(source), keep_prefix=keep_prefix,
                                 drop_prefixes=list(drop_prefixes), dropped=dropped)
    return dict(meta=meta, state_dict=kept), dropped
