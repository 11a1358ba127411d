"""The import layers of ``kd_mmdet.models`` and of the tools: what is shared sits below
what uses it.

``common`` (checks, per-channel standardisation) imports nothing else of kd_mmdet;
``utils`` and the connectors import no loss or algorithm; a method's file imports no other
method's file (CrossKD's alignment and PKD share ``common.standardize_channels``, not
each other's module)."""
import ast
import glob
import os.path as osp

import pytest

from tests.tools import REPO

MODELS = osp.join(REPO, 'kd_mmdet', 'models')


def kd_mmdet_imports(path):
    """The kd_mmdet modules ``path`` imports, as absolute dotted names (relative imports
    resolved against the file's package)."""
    package = osp.relpath(osp.dirname(path), REPO).replace(osp.sep, '.')
    names = []
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ''
            targets = [module] if node.module else [f'{module}.{a.name}' for a in node.names]
            names += [m for m in targets if m.startswith('kd_mmdet')]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith('kd_mmdet')]
    return names


def files(layer):
    return sorted(glob.glob(osp.join(MODELS, layer, '*.py')))


def test_kd_mmdet_imports_resolves_relative_imports():
    """The reader itself: ``from ..losses.kd_loss import x`` in an algorithm is
    ``kd_mmdet.models.losses.kd_loss``; ``from . import y`` in losses is ``...losses.y``."""
    bld = osp.join(MODELS, 'algorithms', 'single_teacher_distill.py')
    assert 'kd_mmdet.models.utils.precision' in kd_mmdet_imports(bld)
    assert 'kd_mmdet.models.losses.kd_loss' in kd_mmdet_imports(
        osp.join(MODELS, 'algorithms', 'bld.py'))


@pytest.mark.parametrize('path', files('common'), ids=osp.basename)
def test_common_imports_nothing_above_it(path):
    assert all(m.startswith('kd_mmdet.models.common') for m in kd_mmdet_imports(path)), \
        kd_mmdet_imports(path)


@pytest.mark.parametrize('path', files('utils') + files('connectors') + files('distillers'),
                         ids=lambda p: osp.relpath(p, MODELS))
def test_utils_connectors_and_distillers_import_no_loss_or_algorithm(path):
    above = [m for m in kd_mmdet_imports(path)
             if m.startswith(('kd_mmdet.models.losses', 'kd_mmdet.models.algorithms'))]
    assert not above, f'{osp.relpath(path, REPO)} imports {above}'


def test_crosskd_does_not_import_pkd():
    """The issue that made ``common.standardize``: CrossKD's algorithm once imported
    ``pkd_normalize`` from PKD's loss file."""
    imports = kd_mmdet_imports(osp.join(MODELS, 'algorithms', 'crosskd.py'))
    assert 'kd_mmdet.models.common.standardize' in imports
    assert not [m for m in imports if 'pkd' in m], imports


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                                        recursive=True)),
                         ids=lambda p: osp.relpath(p, REPO))
def test_tools_import_no_benchmark(path):
    """A user tool runs without the benchmark harness: what both need (the toy runs'
    options, the peak-memory reader) lives in kd_mmdet."""
    tree = ast.parse(open(path).read())
    imported = [n.module or '' for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.split('.')[0] == 'benchmarks'], imported
