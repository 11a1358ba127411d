"""Write the student of a distillation checkpoint as a plain mmdet / mmpretrain checkpoint.

    python tools/export_student.py DISTILL_CKPT OUT.pth [--drop-prefix P ...]
        [--keep-prefix architecture.] [--student-config CONFIG]

mmrazor algorithms hold the student as ``architecture``, the teacher as ``teacher`` and
connectors as ``distiller``; their checkpoints prefix every key accordingly. The export
keeps only ``architecture.*`` keys, with the prefix stripped, so the student's own config
loads them (``tools/test.py STUDENT_CONFIG OUT.pth``, ``load_from``, ``init_detector``).
Everything else is dropped and counted: the teacher, the distiller's connectors and any
other top-level part. ``--drop-prefix`` (repeatable, relative to the student, e.g.
``aux_head.``) also drops student branches that only serve training; by default nothing
of the student is dropped.

``meta`` keeps only ``dataset_meta`` (class names for ``init_detector``), ``epoch``,
``iter``, ``mmengine_version`` and where the weights came from; no message hub,
optimizer or scheduler state, so ``torch.load(OUT, weights_only=True)`` reads the file
on a bare torch.
``--student-config`` builds that config's model and loads the export strictly: a key the
student lacks or expects fails the export (nothing is written).
"""
import argparse
import sys
from typing import Dict, List, Optional

# The export itself is shared with kd_mmdet.StudentCheckpointHook; META_KEYS, is_plain and
# split_state_dict stay importable from this tool.
from kd_mmdet.engine.student_export import (META_KEYS, STUDENT_PREFIX,  # noqa: F401
                                            export_checkpoint, is_plain, split_state_dict)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='checkpoint of a distillation run')
    parser.add_argument('out', help='where to write the student checkpoint (.pth)')
    parser.add_argument('--keep-prefix', default=STUDENT_PREFIX,
                        help='the sub-model to export (default: architecture., the '
                        'student; teacher. exports the teacher)')
    parser.add_argument('--drop-prefix', action='append', default=[],
                        help='drop student keys starting with this (after the keep prefix '
                        'is stripped), e.g. a training-only branch; repeatable')
    parser.add_argument('--student-config',
                        help='check that this config\'s model loads the export strictly')
    return parser.parse_args(argv)


def check_loads(config: str, state_dict: Dict[str, object]) -> str:
    """Build ``config``'s model and load ``state_dict`` strictly; a one-line report."""
    import kd_mmdet  # noqa: F401  registers kd_mmdet, applies kd_mmdet.compat
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope

    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    model.load_state_dict(state_dict, strict=True)  # raises on missing / unexpected keys
    return f'loads strictly into {type(model).__name__} of {config}'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import kd_mmdet  # noqa: F401  lets torch.load read mmengine checkpoints safely
    import torch
    from mmengine.runner import CheckpointLoader

    ckpt = CheckpointLoader.load_checkpoint(args.checkpoint, map_location='cpu')
    out, dropped = export_checkpoint(ckpt, args.checkpoint, args.keep_prefix,
                                     args.drop_prefix)
    kept = out['state_dict']
    if not kept:
        state_dict = ckpt.get('state_dict', ckpt)
        parts = sorted({k.split('.', 1)[0] + '.' for k in state_dict})
        hint = ('a frozen teacher is saved only with save_teacher=True; its weights are '
                'those of the teacher_ckpt of the config' if args.keep_prefix == 'teacher.'
                else 'is it a distillation checkpoint?')
        print(f'export_student: no key of {args.checkpoint} starts with {args.keep_prefix!r} '
              f'(its parts: {parts}); {hint}', file=sys.stderr)
        return 1
    if args.student_config:
        try:
            print(check_loads(args.student_config, kept))
        except RuntimeError as e:  # load_state_dict's list of missing / unexpected keys
            print(f'export_student: the export does not load into {args.student_config}: '
                  f'{e}', file=sys.stderr)
            return 1
    torch.save(out, args.out)
    num_params = sum(v.numel() for v in kept.values() if torch.is_tensor(v))
    print(f'{args.out}: {len(kept)} tensors ({num_params / 1e6:.2f} M values) of '
          f'{args.keep_prefix!r}; dropped ' +
          (', '.join(f'{p} ({n} keys)' for p, n in sorted(dropped.items())) or 'nothing'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
