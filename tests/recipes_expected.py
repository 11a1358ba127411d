"""The recipe each COCO config must resolve to, one row per config (tests/test_recipes.py).

Every value here is the source recipe's (or, where a config documents a deviation, the
deviating value named in its comment and in its metafile row): distilled modules and
levels, each loss with all its hyper-parameters (type, weights, temperatures), the
connectors, the teacher config and checkpoint, epochs, learning rate, gradient clipping,
training scales and the official-code switch. Kept apart from the configs on purpose: an
edit of a shared base (configs/_base_/) that changes a recipe makes tests/test_recipes.py
fail until this table and the metafile row (which configs/RECIPES.md is written from) say
so too.

Each method keeps its rows in tests/recipes/<method>.py (``RECIPES``, built with the
helpers of tests/recipes/common.py); this module collects every such file. To add a
config: add a row to its method's file (or the file of a new method) and the recipe keys
to its metafile row. A *_coco.py config without a row fails
test_every_coco_config_has_a_row.

Encodings (see tests/test_recipes.py, which reads the resolved config the same way):
  recorders: {name: '<recorder type>:<source>'}
  mappings:  {loss: {argument: '<S|T>:<recorder>[data_idx]@record_idx-><connector>'}}
             (each part only when set)
  scales:    the (long, short) scales of the training Resize step, one tuple per choice
"""
import importlib
import os.path as osp
import pkgutil

from tests.recipes.common import SINGLE_SCALE  # noqa: F401  (used by tests/test_recipes.py)


def collect_recipes() -> dict:
    """Every ``RECIPES`` row of tests/recipes/<method>.py; a config with two rows is an
    error."""
    rows, where = {}, {}
    folder = osp.join(osp.dirname(osp.abspath(__file__)), 'recipes')
    for info in sorted(pkgutil.iter_modules([folder]), key=lambda m: m.name):
        if info.name == 'common':
            continue
        module = importlib.import_module(f'tests.recipes.{info.name}')
        for path, row in getattr(module, 'RECIPES', {}).items():
            if path in rows:
                raise ValueError(f'{path}: rows in tests/recipes/{where[path]}.py and '
                                 f'tests/recipes/{info.name}.py')
            rows[path], where[path] = row, info.name
    return rows


RECIPES = collect_recipes()

# Students trained alone (baselines): mmdet's R50 1x recipes with a ResNet-18 backbone.
BASELINES = {
    'configs/students/faster-rcnn_r18_fpn_1x_coco.py': dict(type='FasterRCNN', depth=18,
                                                            epochs=12, lr=0.02),
    'configs/students/gfl_r18_fpn_1x_coco.py': dict(type='GFL', depth=18, epochs=12, lr=0.01),
}
