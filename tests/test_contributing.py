"""CONTRIBUTING.md's checklist, proved: a throwaway method added to a copy of the repository
(a loss, a distiller base, a toy config, its metafile and its declarations, plus one import
line) is picked up by the registry, repro_table, the config tests, the model index, and
the quality and cost benchmarks, with no other shared file edited by hand."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
pytestmark = pytest.mark.slow

IMPORT_LINE = 'from .throwaway_loss import ThrowawayLoss  # noqa: F401\n'

NEW_FILES = {
    'kd_mmdet/models/losses/throwaway_loss.py': '''
        """A throwaway method: MSE / 2 between channel-standardised maps (PKD's formula)."""
        import torch.nn as nn
        import torch.nn.functional as F

        from kd_mmdet.models.common import standardize_channels
        from kd_mmdet.registry import MODELS


        @MODELS.register_module()
        class ThrowawayLoss(nn.Module):
            """The throwaway method's loss."""
            method = 'Throwaway KD'
            same_shape_inputs = ('preds_S', 'preds_T')

            def __init__(self, loss_weight=1.0):
                super().__init__()
                self.loss_weight = loss_weight

            def forward(self, preds_S, preds_T):
                return self.loss_weight * F.mse_loss(
                    standardize_channels(preds_S), standardize_channels(preds_T)) / 2
        ''',
    'configs/_base_/distillers/throwaway_fpn.py': '''
        throwaway_loss = dict(type='kd_mmdet.ThrowawayLoss')
        _neck = dict(fpn=dict(type='ModuleOutputs', source='neck'))
        throwaway_fpn_distiller = dict(type='kd_mmdet.ConfigurableDistiller',
                                       student_recorders=_neck, teacher_recorders=_neck)
        ''',
    'configs/throwaway/throwaway_fpn_gfl_digits.py': '''
        _base_ = ['../_base_/pairs/gfl_digits.py', '../_base_/distillers/throwaway_fpn.py']
        levels = range(3)
        model = dict(distiller=dict(
            _base_.throwaway_fpn_distiller,
            connectors={f'fpn{i}': dict(type='ConvModuleConnector', in_channel=64,
                                        out_channel=128, kernel_size=1, norm_cfg=None,
                                        act_cfg=None) for i in levels},
            distill_losses={f'loss_tw{i}': dict(_base_.throwaway_loss) for i in levels},
            loss_forward_mappings={f'loss_tw{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i,
                             connector=f'fpn{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
                for i in levels}))
        ''',
    'configs/throwaway/metafile.yml': '''
        Collections:
          - Name: Throwaway
            Metadata:
              Training Techniques:
                - Knowledge Distillation
              Task: Object Detection
            Paper:
              Title: A throwaway method
              URL: https://example.org
            README: configs/throwaway/metafile.yml
            Code: kd_mmdet/models/losses/throwaway_loss.py

        Models:
          - Name: throwaway_fpn_gfl_digits
            In Collection: Throwaway
            Config: configs/throwaway/throwaway_fpn_gfl_digits.py
            Metadata:
              Training Data: Digits
              Epochs: 12
              Teacher: gfl_teacher_digits
              Results Source: 'docs/benchmarks.md: not measured in the held-out setting yet'
        ''',
    'configs/throwaway/benchmark.yml': '''
        quality:
          - name: throwaway
            config: configs/throwaway/throwaway_fpn_gfl_digits.py
            pair: gfl
            method: Throwaway KD (FPN)
        cost:
          - name: throwaway
            inputs: fpn
            ours: {type: kd_mmdet.ThrowawayLoss, loss_weight: 6.0}
            reference: {type: mmrazor.PKDLoss, loss_weight: 6.0}
            note: the same formula as PKD
        ''',
}

CHECK = '''
import sys
from mmengine.config import Config
from mmrazor.registry import MODELS
import kd_mmdet.models  # noqa: F401
sys.path.insert(0, 'tools')
import repro_table
from benchmarks import cost, quality

assert MODELS.get('kd_mmdet.ThrowawayLoss') is not None
cfg = Config.fromfile('configs/throwaway/throwaway_fpn_gfl_digits.py')
assert repro_table.describe_method(cfg) == 'Throwaway KD', repro_table.describe_method(cfg)
assert quality.runs_by_name()['throwaway'].config.endswith('throwaway_fpn_gfl_digits.py')
assert 'throwaway' in [e['name'] for e in cost.declared_cost_cases()]
print('picked up')
'''


def _copy_repo(dst: str) -> None:
    files = subprocess.run(['git', 'ls-files'], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    for rel in files:
        src = osp.join(REPO, rel)
        if not osp.isfile(src):
            continue
        os.makedirs(osp.dirname(osp.join(dst, rel)), exist_ok=True)
        shutil.copy2(src, osp.join(dst, rel))


def _snapshot(root: str) -> dict:
    out = {}
    for dirpath, _, names in os.walk(root):
        if '__pycache__' in dirpath or '.pytest_cache' in dirpath:
            continue
        for name in names:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def test_a_new_method_is_picked_up_from_its_own_files(tmp_path):
    copy = str(tmp_path / 'repo')
    _copy_repo(copy)
    before = _snapshot(copy)
    for rel, text in NEW_FILES.items():
        os.makedirs(osp.dirname(osp.join(copy, rel)), exist_ok=True)
        with open(osp.join(copy, rel), 'w') as f:
            f.write(textwrap.dedent(text).lstrip('\n'))
    with open(osp.join(copy, 'kd_mmdet/models/losses/__init__.py'), 'a') as f:
        f.write(IMPORT_LINE)
    env = dict(os.environ, PYTHONPATH=copy, OMP_NUM_THREADS='1')

    def run(*args):
        out = subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True,
                             text=True, timeout=1200)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return out.stdout

    # the generated tables and index follow the new files (one command)
    run('benchmarks/report.py')
    assert 'picked up' in run('-c', CHECK)
    run('-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/test_configs.py',
        'tests/test_model_index.py', 'tests/benchmarks/test_cost.py',
        'tests/benchmarks/test_report.py', 'tests/test_methods.py',
        '-k', 'throwaway or every_config_has_exactly_one_row or metadata_matches or '
              'every_metafile or results_name or agrees or committed')

    # by hand: the import line; the rest was written by report.py (its --check passed
    # above): the index's imports and the generated headline tables
    after = _snapshot(copy)
    edited = sorted(p for p in before if after.get(p) != before[p])
    assert edited == ['README.md', 'docs/benchmarks.md', 'kd_mmdet/models/losses/__init__.py',
                      'model-index.yml'], edited
    for doc in ('README.md', 'docs/benchmarks.md'):
        assert b'| Throwaway KD (FPN) \xc2\xb7 GFL' in after[doc], doc
    assert after['kd_mmdet/models/losses/__init__.py'] == \
        before['kd_mmdet/models/losses/__init__.py'] + IMPORT_LINE.encode()
    assert b'configs/throwaway/metafile.yml' in after['model-index.yml']
