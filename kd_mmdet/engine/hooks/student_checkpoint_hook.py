"""Write the student alone beside the distillation checkpoints, while training.

A distillation checkpoint holds the student under ``architecture.``, the connectors under
``distiller.`` (and the teacher, when it is saved), so the student's own config cannot
load it; ``tools/export_student.py`` converts it after training. Users of mmrazor ask for
this more than for anything else (open-mmlab/mmrazor#76, #157, #571, #594).
:class:`StudentCheckpointHook` writes that conversion as training goes: after mmengine's
``CheckpointHook`` saves ``epoch_3.pth`` (or ``iter_500.pth``, or
``best_coco_bbox_mAP_epoch_3.pth``), it reads the file back and writes
``student_epoch_3.pth`` beside it with :func:`kd_mmdet.engine.student_export.
export_checkpoint` — the same file ``tools/export_student.py epoch_3.pth
student_epoch_3.pth`` writes. When the ``CheckpointHook`` deletes a checkpoint
(``max_keep_ckpts``, a best checkpoint that was overtaken), its student goes with it.

Off by default; one line in a config turns it on::

    custom_hooks = [dict(type='kd_mmdet.StudentCheckpointHook')]   # save='all'
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from kd_mmdet.engine.student_export import STUDENT_PREFIX, export_checkpoint
from kd_mmdet.registry import HOOKS

SAVE_CHOICES = ('all', 'last', 'best')


@HOOKS.register_module()
class StudentCheckpointHook(Hook):
    """Beside each checkpoint the ``CheckpointHook`` writes, the student as a plain
    mmdet / mmpretrain checkpoint (see the module docstring).

    Args:
        save: which checkpoints get a student file: ``'all'`` (every periodic and best
            checkpoint), ``'last'`` (only the latest periodic checkpoint: the student file
            of the previous one is removed) or ``'best'`` (only best checkpoints, which
            needs ``CheckpointHook(save_best=...)``); or a list of these.
        prefix: prepended to the checkpoint's file name.
        drop_prefixes: student keys (relative to the student) to leave out, e.g. a
            training-only branch; as ``tools/export_student.py --drop-prefix``.
    """

    priority = 'LOWEST'  # after the CheckpointHook (VERY_LOW) has written its file

    def __init__(self, save: Union[str, Sequence[str]] = 'all', prefix: str = 'student_',
                 drop_prefixes: Sequence[str] = ()) -> None:
        kinds = [save] if isinstance(save, str) else list(save)
        bad = [k for k in kinds if k not in SAVE_CHOICES]
        if not kinds or bad:
            raise ValueError(f'StudentCheckpointHook: save must be one of {SAVE_CHOICES} '
                             f'or a list of them, got {save!r}')
        if not prefix or os.sep in prefix:
            raise ValueError('StudentCheckpointHook: prefix must be a non-empty file name '
                             f'prefix, got {prefix!r}')
        self.every = 'all' in kinds
        self.last = self.every or 'last' in kinds
        self.best = self.every or 'best' in kinds
        self.prefix = prefix
        self.drop_prefixes = list(drop_prefixes)
        self._written: Dict[str, Tuple[str, str]] = {}  # student file -> (checkpoint, kind)
        self._seen: Dict[str, float] = {}  # checkpoint -> its mtime when exported

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        student = getattr(model, STUDENT_PREFIX.rstrip('.'), None)
        if not isinstance(student, torch.nn.Module):
            raise TypeError(
                f'StudentCheckpointHook: the model ({type(model).__name__}) has no '
                f'{STUDENT_PREFIX.rstrip(".")!r} sub-model; the hook exports the student '
                'of an mmrazor / kd_mmdet distillation algorithm (SingleTeacherDistill, '
                'RoIHeadDistill, ...)')
        self._expected = sorted(k for k in student.state_dict()
                                if not any(k.startswith(p) for p in self.drop_prefixes))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._export_new(runner)

    def after_train_epoch(self, runner) -> None:
        self._export_new(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._export_new(runner)

    def student_path(self, checkpoint: str) -> str:
        """Where the student of ``checkpoint`` goes: beside it, ``prefix`` + its name."""
        return osp.join(osp.dirname(checkpoint), self.prefix + osp.basename(checkpoint))

    def _checkpoints(self, runner) -> Dict[str, str]:
        """The checkpoints the CheckpointHook has announced, by kind ('last' / 'best')."""
        info = runner.message_hub.runtime_info
        found = {}
        if info.get('last_ckpt'):
            found[str(info['last_ckpt'])] = 'last'
        for key, value in info.items():
            if key.startswith('best_ckpt') and value:
                found[str(value)] = 'best'
        return found

    def _export_new(self, runner) -> None:
        if not is_main_process():
            return
        current = self._checkpoints(runner)
        for checkpoint, kind in current.items():
            wanted = self.last if kind == 'last' else self.best
            if not wanted or not osp.isfile(checkpoint):
                continue
            mtime = osp.getmtime(checkpoint)
            if self._seen.get(checkpoint) != mtime:  # new, or saved again
                self._write(runner, checkpoint, kind)
                self._seen[checkpoint] = mtime
        self._remove_stale(runner, current)

    def _write(self, runner, checkpoint: str, kind: str) -> None:
        from mmengine.runner import CheckpointLoader
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        out, _ = export_checkpoint(ckpt, checkpoint, STUDENT_PREFIX, self.drop_prefixes)
        if sorted(out['state_dict']) != self._expected:
            got = set(out['state_dict'])
            missing = [k for k in self._expected if k not in got]
            extra = sorted(got - set(self._expected))
            raise RuntimeError(
                f'StudentCheckpointHook: the student keys of {checkpoint} are not those '
                f'of the model being trained: missing {missing[:5]}, unexpected '
                f'{extra[:5]} ({len(missing)} / {len(extra)} in all)')
        path = self.student_path(checkpoint)
        torch.save(out, path)
        self._written[path] = (checkpoint, kind)
        runner.logger.info(f'StudentCheckpointHook: the student of {osp.basename(checkpoint)} '
                           f'is saved to {path}')

    def _remove_stale(self, runner, current: Dict[str, str]) -> None:
        """Remove the students whose checkpoint the CheckpointHook deleted and, unless
        save='all', the student of every periodic checkpoint but the latest."""
        latest: Optional[str] = next((c for c, k in current.items() if k == 'last'), None)
        for path, (checkpoint, kind) in list(self._written.items()):
            superseded = not self.every and kind == 'last' and checkpoint != latest
            if superseded or not osp.isfile(checkpoint):
                if osp.isfile(path):
                    os.remove(path)
                    runner.logger.info(f'StudentCheckpointHook: removed {path}')
                del self._written[path]
