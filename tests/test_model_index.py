"""model-index.yml: mim's own search code reads it, and it describes every config.

The index is what ``mim search kd_mmdet`` shows (mim 0.3.9 loads it with the
``model-index`` package from ``kd_mmdet/.mim/model-index.yml``). mmrazor's index breaks
``mim search mmrazor`` with ``KeyError: 'PKD'`` because models name collections that no
metafile defines; the checks below catch that, a config without a row, a row whose config
is gone, and metadata that no longer matches its config. A failing coverage check prints
the rows to paste into the folder's metafile.yml.
"""
import glob
import os.path as osp
import re
import subprocess
import sys
from collections import Counter
from typing import Dict, List

import pytest
import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
INDEX = osp.join(REPO, 'model-index.yml')
CONFIGS = sorted(osp.relpath(p, REPO)
                 for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
                 if '/_base_/' not in p)
METRIC = {'Object Detection': 'box AP', 'Image Classification': 'Top 1 Accuracy'}
DATASETS = {'COCO', 'Digits', 'CIFAR-100', 'ImageNet-1k'}


def metafiles() -> List[str]:
    with open(INDEX) as f:
        return [entry for entry in yaml.safe_load(f)['Import']]


def load_rows():
    """(collections, models) of every imported metafile, each tagged with its file."""
    collections, models = [], []
    for meta in metafiles():
        with open(osp.join(REPO, meta)) as f:
            data = yaml.safe_load(f) or {}
        collections += [dict(c, _file=meta) for c in data.get('Collections') or []]
        models += [dict(m, _file=meta) for m in data.get('Models') or []]
    return collections, models


def config_facts(config: str) -> Dict[str, object]:
    """What a row's Metadata states, read from the config: training data, epochs, and
    the teacher (its model-zoo name for a URL, the run folder for a local checkpoint)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:  # RepeatDataset and friends
        dataset = dataset.dataset
    root = f"{dataset.get('type', '')} {dataset.get('data_root', '')}".lower()
    data = ('Digits' if 'digits' in root else 'CIFAR-100' if 'cifar100' in root else
            'ImageNet-1k' if 'imagenet' in root else 'COCO' if 'coco' in root else root)
    facts = {'Training Data': data, 'Epochs': cfg.train_cfg.max_epochs}
    ckpt = cfg.model.get('teacher_ckpt')
    if ckpt:
        if '://' in ckpt:  # e.g. .../gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth
            name = re.sub(r'(_bbox_mAP-[\d.]+)?_\d{8}(_\d{6})?-[0-9a-f]+\.pth$', '',
                          osp.basename(ckpt))
            zoo = 'mmpretrain' if '/mmclassification/' in ckpt else 'mmdet'
            facts['Teacher'] = f'{zoo} {name}'
        else:  # e.g. work_dirs/gfl_teacher_digits/epoch_12.pth
            facts['Teacher'] = osp.basename(osp.dirname(ckpt))
    return facts


def template_row(config: str) -> str:
    """A row for ``config`` to paste into its folder's metafile.yml (Results to fill in)."""
    facts = config_facts(config)
    meta = '\n'.join(f'      {k}: {v}' for k, v in facts.items())
    return (f'  - Name: {osp.splitext(osp.basename(config))[0]}\n'
            f'    In Collection: <a collection of {osp.dirname(config)}/metafile.yml>\n'
            f'    Config: {config}\n    Metadata:\n{meta}\n')


def test_every_config_has_exactly_one_row():
    """A new config without a row, or two rows for one config, fails here."""
    _, models = load_rows()
    counts = Counter(m['Config'] for m in models)
    missing = [c for c in CONFIGS if c not in counts]
    twice = sorted(c for c, n in counts.items() if n > 1)
    assert not missing, ('configs without a row in model-index.yml; add these to the '
                         'folder\'s metafile.yml:\n' + '\n'.join(map(template_row, missing)))
    assert not twice, f'configs with more than one row: {twice}'


def test_every_metafile_is_imported_and_every_path_exists():
    """Each config folder's metafile.yml is imported; Config, README and Code exist."""
    imported = metafiles()
    on_disk = sorted(osp.relpath(p, REPO) for p in
                     glob.glob(osp.join(REPO, 'configs', '**', 'metafile.yml'), recursive=True))
    assert sorted(imported) == on_disk
    folders = {osp.dirname(c) for c in CONFIGS}
    assert folders <= {osp.dirname(m) for m in imported}, folders - {osp.dirname(m)
                                                                      for m in imported}
    collections, models = load_rows()
    for row in models:
        assert osp.isfile(osp.join(REPO, row['Config'])), (row['Name'], row['Config'])
        assert osp.dirname(row['Config']) == osp.dirname(row['_file']), row['Name']
        assert row['Name'] == osp.splitext(osp.basename(row['Config']))[0], row['Name']
    for col in collections:
        assert osp.isfile(osp.join(REPO, col['README'])), (col['Name'], col['README'])
        assert col['Code'].startswith('https://') or osp.exists(osp.join(REPO, col['Code'])), \
            (col['Name'], col['Code'])
        assert set(col['Paper']) == {'Title', 'URL'}, col['Name']
        assert col['Paper']['URL'].startswith('https://'), col['Name']


def test_every_collection_named_is_defined_once():
    """mmrazor's KeyError: 'PKD': a model in a collection that no metafile defines."""
    collections, models = load_rows()
    names = Counter(c['Name'] for c in collections)
    assert all(n == 1 for n in names.values()), names
    undefined = {m['Name']: m['In Collection'] for m in models
                 if m['In Collection'] not in names}
    assert not undefined, f'rows in collections that no metafile defines: {undefined}'
    assert {m['Name'] for m in models}.__len__() == len(models)  # config ids are unique


@pytest.mark.parametrize('config', CONFIGS)
def test_metadata_matches_the_config(config):
    """Training data, epochs and teacher of a row are those of its config."""
    _, models = load_rows()
    row = next((m for m in models if m['Config'] == config), None)
    if row is None:
        pytest.skip('no row (test_every_config_has_exactly_one_row fails)')
    facts = config_facts(config)
    stated = {k: row['Metadata'].get(k) for k in facts}
    assert stated == facts, f'{row["_file"]}: {row["Name"]}'


def test_results_name_their_task_dataset_metric_and_source():
    """COCO rows quote a published number with its source, digits rows our measurement
    (docs/benchmarks.md, written by benchmarks/report.py); the metric fits the task;
    values are percentages."""
    _, models = load_rows()
    with_results = [m for m in models if m.get('Results')]
    assert len([m for m in with_results
                if m['Metadata']['Training Data'] != 'Digits']) >= 25
    for row in with_results:
        for result in row['Results']:
            assert result['Task'] in METRIC and result['Dataset'] in DATASETS, row['Name']
            assert set(result['Metrics']) == {METRIC[result['Task']]}, row['Name']
            value = result['Metrics'][METRIC[result['Task']]]
            assert isinstance(value, float) and 0 < value < 100, row['Name']
            assert result['Dataset'] == row['Metadata']['Training Data'], row['Name']
    for row in models:
        source = row['Metadata'].get('Results Source', '')
        if row['Metadata']['Training Data'] == 'Digits':
            assert source.startswith('docs/benchmarks.md'), row['Name']
        elif row.get('Results'):
            assert source, f'{row["Name"]}: a published number needs its source'


# --- mim's own search code over the installed index --------------------------------
def mim_search(*args: str) -> subprocess.CompletedProcess:
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    return subprocess.run([mim, 'search', 'kd_mmdet', *args], capture_output=True,
                          text=True, timeout=300, cwd='/')


def installed_index() -> str:
    from mim.utils import get_installed_path
    path = osp.join(get_installed_path('kd_mmdet'), '.mim', 'model-index.yml')
    assert osp.isfile(path), (f'{path} is missing: setup.py places model-index.yml there '
                              'at install time; run scripts/install.sh')
    return path


def test_installed_index_is_this_one():
    """mim reads kd_mmdet/.mim/model-index.yml, which must be the repository's."""
    assert osp.samefile(installed_index(), INDEX) or \
        open(installed_index()).read() == open(INDEX).read()


def test_mim_parses_every_row():
    """mim's parser (modelindex + mim's DataFrame) sees one row per config."""
    installed_index()
    from mim.commands.search import get_model_info
    df = get_model_info('kd_mmdet')
    _, models = load_rows()
    assert sorted(df.index) == sorted(m['Name'] for m in models)
    assert len(df) == len(CONFIGS)
    for m in models:  # mim's columns hold each row's own values
        got = df.loc[m['Name']]
        assert got['model'] == m['In Collection'].lower(), m['Name']
        assert got['training_data'] == m['Metadata']['Training Data'].lower(), m['Name']
        assert got['epochs'] == m['Metadata']['Epochs'], m['Name']
        for result in m.get('Results') or []:
            (metric, value), = result['Metrics'].items()
            column = f"{result['Dataset'].lower()}/{metric.lower().replace(' ', '_')}"
            assert got[column] == value, (m['Name'], column)


def test_mim_search_filters():
    """--condition and --field select rows and columns; --dataset and --model filter."""
    installed_index()
    from mim.commands.search import get_model_info
    _, models = load_rows()
    coco = {m['Name']: m['Results'][0]['Metrics']['box AP'] for m in models
            if m.get('Results') and m['Results'][0]['Dataset'] == 'COCO'}
    digits = {m['Name']: m['Results'][0]['Metrics']['box AP'] for m in models
              if m.get('Results') and m['Results'][0]['Dataset'] == 'Digits'
              and 'box AP' in m['Results'][0]['Metrics']}
    above = get_model_info('kd_mmdet', filter_conditions='box_ap>40')
    expected = {n for n, v in {**coco, **digits}.items() if v > 40}
    assert set(above.index) == expected and len(expected) >= 5
    shown = get_model_info('kd_mmdet', shown_fields=['coco/box_ap'])
    assert list(shown.columns) == ['coco/box_ap']
    assert set(shown.index) == set(coco)  # rows without the field are dropped
    assert dict(shown['coco/box_ap']) == coco
    on_digits = get_model_info('kd_mmdet', training_datasets=['digits'])
    assert set(on_digits.index) == {m['Name'] for m in models
                                    if m['Metadata']['Training Data'] == 'Digits'}
    cwd = get_model_info('kd_mmdet', models=['cwd'])
    assert set(cwd.index) == {m['Name'] for m in models if m['In Collection'] == 'CWD'}


def test_mim_search_command_line():
    """`mim search kd_mmdet` with a condition and fields, as a user types it."""
    out = mim_search('--condition', 'box_ap>43', '--field', 'box_ap', 'teacher')
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    shown = re.findall(r'config id: (\S+)', out.stdout)
    _, models = load_rows()
    above = {m['Name']: m for m in models if m.get('Results') and
             m['Results'][0]['Metrics'].get('box AP', 0) > 43}
    assert above and sorted(shown) == sorted(above), out.stdout
    assert 'coco/box_ap' in out.stdout
    for row in above.values():  # each row's own number and teacher are printed
        assert str(row['Results'][0]['Metrics']['box AP']) in out.stdout, row['Name']
        assert row['Metadata']['Teacher'] in out.stdout, row['Name']
    out = mim_search('--valid-config')
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(re.findall(r"'([^']+)'", out.stdout.split('valid config ids:')[1])) == \
        len(CONFIGS)
