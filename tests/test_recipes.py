"""Every COCO config resolves to the recipe its method declares in tests/recipes/<method>.py.

Each config is read with mmengine's Config.fromfile (mmdet:: bases included), as training
reads it, and compared value by value with its row: distilled modules and levels, each
loss's type and hyper-parameters (weights, temperatures), connectors, teacher config and
checkpoint, epochs, learning rate, gradient clipping, training scales, and the
official-code switch. An edit of a shared base (configs/_base_/) that changes any recipe
fails here; a new *_coco.py config without a row fails test_every_coco_config_has_a_row.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from tests.recipes_expected import BASELINES, RECIPES, SINGLE_SCALE

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def coco_configs():
    """Every COCO config in the tree (bases excluded), repository-relative."""
    paths = glob.glob(osp.join(REPO, 'configs', '**', '*_coco.py'), recursive=True)
    return sorted(osp.relpath(p, REPO) for p in paths if '/_base_/' not in p)


def _plain(value):
    """ConfigDict/tuple/list -> dict/list, so that equality ignores the container types."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def encode_mapping(arg):
    """'<S|T>:<recorder>[data_idx]@record_idx-><connector>', each part only when set."""
    out = ('S:' if arg['from_student'] else 'T:') + arg['recorder']
    if arg.get('data_idx') is not None:
        out += f"[{arg['data_idx']}]"
    if arg.get('record_idx') is not None:
        out += f"@{arg['record_idx']}"
    if arg.get('connector') is not None:
        out += f"->{arg['connector']}"
    return out


def train_scales(cfg):
    """The (long, short) scales of the training pipeline's resize step."""
    dataset = cfg.train_dataloader.dataset
    pipeline = dataset.get('pipeline') or dataset.dataset.pipeline
    resizes = [t for t in pipeline if t['type'] in ('Resize', 'RandomChoiceResize',
                                                    'RandomResize')]
    assert len(resizes) == 1, f'one resize step expected, got {resizes}'
    step = resizes[0]
    assert step.get('keep_ratio') is True, step
    if step['type'] == 'RandomResize':  # a range, not a set of scales
        return ('range', _plain(step['scale']))
    scales = step['scales'] if step['type'] == 'RandomChoiceResize' else [step['scale']]
    return [list(s) for s in scales]


def resolved_recipe(cfg):
    """The recipe values of a resolved distillation config, in the table's encoding."""
    model, distiller = cfg.model, cfg.model.distiller
    recorders = {side: {name: f"{r['type']}:{r['source']}"
                        for name, r in distiller.get(f'{side}_recorders', {}).items()}
                 for side in ('student', 'teacher')}
    clip = cfg.optim_wrapper.get('clip_grad')
    if clip is not None:
        assert clip.get('norm_type', 2) == 2, clip
        clip = clip['max_norm']
    return dict(
        algorithm=model.type,
        teacher=[model.teacher.cfg_path, model.teacher_ckpt],
        teacher_pretrained=model.teacher.get('pretrained'),
        epochs=cfg.train_cfg.max_epochs, lr=cfg.optim_wrapper.optimizer.lr, clip=clip,
        scales=train_scales(cfg),
        inherit=_plain(model.get('inherit_from_teacher')),
        recorders=recorders,
        losses=_plain(distiller.distill_losses),
        connectors=_plain(distiller.get('connectors', {})),
        mappings={loss: {arg: encode_mapping(m) for arg, m in args.items()}
                  for loss, args in distiller.loss_forward_mappings.items()})


def expected_recipe(row):
    return dict(
        algorithm=row['algorithm'], teacher=list(row['teacher']), teacher_pretrained=False,
        epochs=row['epochs'], lr=row['lr'], clip=row['clip'],
        scales=[list(s) for s in row['scales']], inherit=_plain(row['inherit']),
        recorders=row['recorders'], losses=_plain(row['losses']),
        connectors=_plain(row['connectors']), mappings=row['mappings'])


@pytest.mark.parametrize('path', sorted(RECIPES))
def test_config_resolves_to_its_recipe(path):
    cfg = Config.fromfile(osp.join(REPO, path))
    got, want = resolved_recipe(cfg), expected_recipe(RECIPES[path])
    diffs = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not diffs, f'{path} differs from its row in tests/recipes/<method>.py: {diffs}'
    # arguments of the algorithm itself (CrossKD's index and losses)
    for key, value in (RECIPES[path].get('model_args') or {}).items():
        assert _plain(cfg.model.get(key)) == _plain(value), (path, key, cfg.model.get(key))
    # the top-level teacher_ckpt (what README commands show) is the one the model loads
    assert cfg.teacher_ckpt == cfg.model.teacher_ckpt
    # the official-code switch each config states: explicit, or the loss's default
    if RECIPES[path]['code_mode']:
        arg, mode = RECIPES[path]['code_mode']
        assert all(loss.get(arg, 'paper' if arg == 'mask_mode' else 'diou') == mode
                   for loss in cfg.model.distiller.distill_losses.values())


@pytest.mark.parametrize('path', sorted(BASELINES))
def test_baseline_resolves_to_its_recipe(path):
    cfg, row = Config.fromfile(osp.join(REPO, path)), BASELINES[path]
    assert cfg.model.type == row['type'] and cfg.model.backbone.depth == row['depth']
    assert cfg.train_cfg.max_epochs == row['epochs']
    assert cfg.optim_wrapper.optimizer.lr == row['lr']
    assert train_scales(cfg) == [list(s) for s in SINGLE_SCALE]


def test_every_coco_config_has_a_row():
    """A COCO config without a row in tests/recipes_expected.py, or a row whose config is
    gone, fails: the table is the list of recipes this project vouches for."""
    tree = set(coco_configs())
    table = set(RECIPES) | set(BASELINES)
    assert not tree - table, f'COCO configs without a row in tests/recipes/<method>.py ' \
                             f'(and a metafile row): {sorted(tree - table)}'
    assert not table - tree, f'rows without a config: {sorted(table - tree)}'


def test_every_coco_config_has_a_recipes_md_row():
    """configs/RECIPES.md names every COCO config of the table."""
    with open(osp.join(REPO, 'configs', 'RECIPES.md'), encoding='utf-8') as f:
        text = f.read()
    missing = [p for p in sorted(set(RECIPES) | set(BASELINES))
               if f'`{osp.basename(p)}`' not in text]
    assert not missing, f'configs/RECIPES.md has no row for {missing}'
