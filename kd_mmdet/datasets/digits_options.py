"""The ``--cfg-options`` that point a digits config at a generated set: one place for the
toy runs of ``tools/plan.py --toy`` and of ``benchmarks/quality.py``, so that a plan's
toy twin and the benchmark train a config the same way (and tools import no benchmark).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

#: The image side the digits configs are written for, px.
CONFIG_IMG_SIZE = 128


def score_thr_paths(model: Dict, prefix: str = '') -> List[str]:
    """Dotted paths of every ``score_thr`` inside a ``test_cfg`` of a model dict."""
    paths = []
    for key, value in model.items():
        path = f'{prefix}{key}'
        if isinstance(value, dict):
            paths += score_thr_paths(value, path + '.')
        elif key == 'score_thr' and '.test_cfg.' in f'.{path}':
            paths.append(path)
    return paths


def digits_run_options(config_path: str, data_root: str, task: str,
                       teacher_ckpt: Optional[str], seed: int,
                       img_size: int = CONFIG_IMG_SIZE, keep_all_scores: bool = False,
                       extra: Sequence[str] = ()) -> List[str]:
    """``tools/train.py --cfg-options`` of one run on a generated digits set.

    Args:
        config_path: the config (read to find its resize steps and score thresholds).
        data_root: the set (``tools/make_digits.py`` / ``tools/make_digits_cls.py``).
        task: ``'det'`` (COCO json; validation and test evaluators read the val split's
            annotations until a test pass points them elsewhere) or ``'cls'``.
        teacher_ckpt: written to ``model.teacher_ckpt`` (None: left as the config has it).
        seed: ``randomness.seed``.
        img_size: detection image side; every ``Resize`` step gets ``(img_size,
            img_size)`` unless it is the configs' own ``CONFIG_IMG_SIZE``.
        keep_all_scores: every ``score_thr`` of the model's test configs set to 0 (a
            briefly trained model then still gives the evaluator boxes).
        extra: appended as they are.

    Raises:
        ValueError: ``teacher_ckpt`` given for a config without ``model.teacher_ckpt``.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config_path)
    opts = [f'randomness.seed={seed}']
    root = data_root.rstrip('/') + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts.append(f'{loader}.dataset.data_root={root}')
    if task == 'det':
        ann = osp.join(data_root, 'annotations', 'instances_val.json')
        opts += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
        if img_size != CONFIG_IMG_SIZE:
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                for i, step in enumerate(cfg[loader].dataset.pipeline):
                    if step['type'] == 'Resize':
                        opts.append(f'{loader}.dataset.pipeline.{i}.scale='
                                    f'({img_size},{img_size})')
        if keep_all_scores:
            opts += [f'model.{path}=0.0' for path in score_thr_paths(cfg.model)]
    if teacher_ckpt is not None:
        if 'teacher_ckpt' not in cfg.model:
            raise ValueError(f'digits_run_options: {config_path} has no model.teacher_ckpt '
                             'to set')
        opts.append(f'model.teacher_ckpt={teacher_ckpt}')
    return opts + list(extra)
