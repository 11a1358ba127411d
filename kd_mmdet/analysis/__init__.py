"""Pure helpers behind ``tools/coco_eval.py`` and ``tools/analysis/``.

Not imported by ``kd_mmdet/__init__.py``: training never needs them, and they pull in
pycocotools. Import the submodules directly, e.g. ``from kd_mmdet.analysis.cka import
linear_cka``.
"""
