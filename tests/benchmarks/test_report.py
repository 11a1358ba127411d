"""benchmarks/report.py: generated tables from the committed raw results."""
import pytest

from benchmarks import report


def base(pair, schedule, seed, value, epochs, status=None, wall=None):
    return dict(role='baseline', pair=pair, schedule=schedule, seed=seed, value=value,
                epochs=epochs, split='val', status=status, name=f'{pair}_student', wall=wall)


def test_committed_sections_match_the_raw_data():
    """Every generated section of the docs is what the committed raw data give (the
    suite's --check: a table edited by hand or stale raw data fails here)."""
    assert report.run(check=True) == []


def test_schedule_rows_pair_each_doubling_by_seed():
    """x2 vs x1 and x4 vs x2, per seed: +1.25 (within 1.5: yes), +3.25 (no); a seed
    missing at x4 leaves the pairing."""
    results = [base('gfl', 'x1', 0, 20.0, 3, wall=60.0), base('gfl', 'x1', 1, 22.0, 3, wall=120.0),
               base('gfl', 'x2', 0, 21.0, 6), base('gfl', 'x2', 1, 23.5, 6),
               base('gfl', 'x4', 0, 24.25, 12), base('gfl', 'x4', 1, None, 12)]
    rows = report.schedule_rows(results)
    assert [r[:4] for r in rows] == [['gfl', 'x1', '3', 'val'], ['gfl', 'x2', '6', 'val'],
                                     ['gfl', 'x4', '12', 'val']]
    assert rows[0][4] == '20.0, 22.0 (21.0 ± 1.4)' and rows[0][5:] == ['—', '—', '1.5']
    assert rows[1][5].startswith('+1.2 [') and rows[1][6] == 'yes'   # (1.0 + 1.5) / 2
    assert rows[2][4] == '24.2' and rows[2][5] == '+3.2' and rows[2][6] == 'no'  # seed 0
    assert rows[2][7] == '—'  # no wall logged


def test_recipe_rows_list_the_failed_seeds_and_leave_them_out():
    """A failed seed (at chance) is named and not averaged in."""
    results = [dict(role='teacher', value=90.0, seed=0),
               base('cls', 'x1', 0, 80.0, 15), base('cls', 'x1', 1, 82.0, 15),
               dict(base('cls', 'x1', 2, None, 15, status='failed: training loss >= 0.95 ln '
                                                          '10 through epoch(s) 2, 3, 4 after '
                                                          'warm-up'), stalled_value=51.7),
               dict(base('cls', 'x1', 3, None, 15, status='failed: training loss >= 0.95 ln '
                                                          '10 through epoch(s) 2 after warm-up'),
                    stalled_value=60.0)]
    rows = report.recipe_rows([('SGD', results)])
    assert rows == [['SGD', 'x1', '15', '90.0', '80.0, 82.0 (81.0 ± 1.4)',
                     '2 (epochs 2–4; 51.7), 3 (epoch 2; 60.0)']]


def test_render_replaces_only_the_body_between_the_markers():
    section = report.Section('t', 'x.md', lambda: '| a |\n')
    text = 'before\n<!-- report:t (generated) -->\nold\n<!-- /report:t -->\nafter\n'
    assert report.render(text, section) == \
        'before\n<!-- report:t (generated) -->\n| a |\n<!-- /report:t -->\nafter\n'
    with pytest.raises(ValueError, match="x.md has no section 't'"):
        report.render('no markers', section)


def test_preflight_rows_sum_the_distillation_terms_beside_the_detection_loss():
    """Distillation terms summed (0.3 + 0.1) next to the other loss terms (1.5 + 0.5; the
    total ``loss`` and non-loss logs left out); a baseline has no distillation column."""
    row = dict(row='CWD', config='configs/cwd/x.py', ok=True, input_shape=[800, 1344],
               step_s=12.34, peak_mem_mb=5120.0, teacher_share=0.25,
               terms={'loss': 2.4, 'loss_cls': 1.5, 'loss_bbox': 0.5, 'acc': 90.0,
                      'distill.loss_cwd_fpn0': 0.3, 'distill.loss_cwd_fpn1': 0.1})
    base = dict(row, row='baseline', teacher_share=None,
                terms={'loss': 2.0, 'loss_cls': 1.5, 'loss_bbox': 0.5})
    rows = report.preflight_rows([row, base])
    assert rows[0] == ['CWD', 'x.py', 'ok', '800 × 1344', '12.3', '5.0', '25 %', '0.4', '2',
                       '0.2']
    assert rows[1][6:] == ['—', '—', '2', '—']


def rec(name, role, seed, value, wall=100.0, split='test', schedule='x1', pair='gfl',
        precision='fp32'):
    return dict(name=name, role=role, pair=pair, seed=seed, value=value, wall=wall,
                split=split, schedule=schedule, precision=precision)


def test_headline_pairs_test_records_by_seed_and_leaves_the_rest_out():
    """Only test, fp32, x1 records count: val scores, the x2 baseline and an amp run would
    each change the numbers if they leaked in. Δ per seed (2, 2.5, 2) over the baseline,
    peer difference per seed (1, 0.5, 0), a failed seed dropped from both sides, the wall
    ratio of the paired seeds, the teacher's gap."""
    from benchmarks.quality import Run
    runs = [Run('cwd_fpn', 'configs/cwd/a.py', 'gfl', 'CWD (FPN)'),
            Run('cwd_fpn_mmrazor', 'b.py', 'gfl', 'CWD (FPN)', 'mmrazor', peer_of='cwd_fpn'),
            Run('fgd', 'configs/fgd/c.py', 'gfl', 'FGD', recipe_change='T 0.5 → 1',
                diagnosis='toy artefact')]
    results = [rec('gfl_teacher', 'teacher', 0, 31.0),
               *[rec('gfl_student', 'baseline', s, v) for s, v in enumerate([20, 22, 21])],
               *[rec('gfl_student', 'baseline', s, 40.0, schedule='x2') for s in range(3)],
               *[rec('gfl_student', 'baseline', s, 10.0, split='val') for s in range(3)],
               *[rec('cwd_fpn', 'method', s, v, wall=300.0)
                 for s, v in enumerate([22, 24.5, 23])],
               *[rec('cwd_fpn', 'method', s, 90.0, precision='amp') for s in range(3)],
               *[rec('cwd_fpn_mmrazor', 'method', s, v) for s, v in enumerate([21, 24, 23])],
               rec('fgd', 'method', 0, None), rec('fgd', 'method', 1, 21.5),
               rec('fgd', 'method', 2, 21.0)]
    rows, below = report.headline_rows(results, runs)
    assert len(rows) == 2  # the peer is a column of ours, not a row
    cwd, fgd = rows
    assert cwd[0] == 'CWD (FPN) · GFL R50→R18'
    assert cwd[2].startswith('+2.2 [') and cwd[2].endswith('(3 seeds)')
    assert cwd[3] == '22 %'                      # 2.17 / (31 - 21)
    assert cwd[4].startswith('+0.5 [') and cwd[4].endswith('(mmrazor)')
    assert cwd[5] == '3.00' and cwd[6] == 'no'
    assert fgd[2].startswith('-0.2 [') and fgd[2].endswith('(2 seeds)')  # seeds 1, 2
    assert fgd[6] == 'T 0.5 → 1'
    assert below == [f'- FGD · GFL R50→R18: Δ {fgd[2].rsplit(" (", 1)[0]} — toy artefact']


def test_headline_without_records_says_not_run():
    from benchmarks.quality import Run
    rows, below = report.headline_rows([], [Run('kd', 'k.py', 'cls', 'KD')])
    assert rows == [['KD · ResNet-20→ResNet-8', '`k.py`', 'not run', '—', '—', '—', 'no']]
    assert below == []


METAFILE = '''Models:
  - Name: cwd_fpn_gfl_digits
    In Collection: CWD
    Config: configs/cwd/cwd_fpn_gfl_digits.py
    Metadata:
      Training Data: Digits
      Epochs: 12
      Results Source: 'an old run'
    Results:
      - Task: Object Detection
        Dataset: Digits
        Metrics:
          box AP: 5.6

  - Name: cwd_fpn_gfl_r101-r50_1x_coco
    In Collection: CWD
    Config: configs/cwd/cwd_fpn_gfl_r101-r50_1x_coco.py
    Metadata:
      Training Data: COCO
      Results Source: a paper
    Results:
      - Task: Object Detection
        Dataset: COCO
        Metrics:
          box AP: 41.9
'''


def test_metafile_digits_rows_take_the_held_out_test_mean_and_nothing_else():
    """A digits row's result is the mean of its config's test records of ours (val
    records, peers and other precisions left out); a COCO row is not touched; without a
    held-out record the old number goes."""
    config = 'configs/cwd/cwd_fpn_gfl_digits.py'
    results = [dict(rec('cwd_fpn', 'method', s, v), config=config, impl='kd_mmdet')
               for s, v in enumerate([30.0, 31.0, 32.5])]
    results += [dict(rec('cwd_fpn', 'method', 0, 99.0, split='val'), config=config),
                dict(rec('cwd_fpn', 'method', 0, 99.0, precision='amp'), config=config),
                dict(rec('x', 'method', 0, 99.0), config=config, impl='mmrazor')]
    text = report.render_metafile(METAFILE, results)
    assert "      Results Source: 'docs/benchmarks.md: held-out run, mean of 3 seeds" in text
    assert '          box AP: 31.2\n\n  - Name: cwd_fpn_gfl_r101' in text
    assert text.split('  - Name: cwd_fpn_gfl_r101')[1] == \
        METAFILE.split('  - Name: cwd_fpn_gfl_r101')[1]
    empty = report.render_metafile(METAFILE, [])
    assert 'box AP: 5.6' not in empty and "the held-out setting yet'\n\n" in empty
    assert report.render_metafile(text, results) == text


def test_model_index_imports_every_metafile_and_keeps_the_rest():
    text = '# a comment\nImport:\n  - configs/a/metafile.yml\n'
    new = report.render_index(text, ['configs/a/metafile.yml', 'configs/new/metafile.yml'])
    assert new == '# a comment\nImport:\n  - configs/a/metafile.yml\n' \
                  '  - configs/new/metafile.yml\n'
    with pytest.raises(ValueError, match='no Import list'):
        report.render_index('nothing', [])


def test_recipes_tables_come_from_the_metafile_rows():
    """One section per collection with a Recipe Heading (its note below), rows with every
    recipe key, the students alone last; rows without the keys (digits) left out."""
    method = '''Collections:
  - Name: ZZ
    Recipe Heading: 'ZZ (some/repo)'
    Recipe Note: 'All ZZ rows: a note.'
Models:
  - Name: zz_coco
    In Collection: ZZ
    Config: configs/zz/zz_coco.py
    Metadata: {Pair: 'T → S', Schedule: 1x, Published: '40.0', Recipe: 'a file',
               Deviations: none.}
  - Name: zz_digits
    In Collection: ZZ
    Config: configs/zz/zz_digits.py
    Metadata: {Training Data: Digits}
'''
    other = method.replace('ZZ', 'AA').replace('zz', 'aa')
    students = '''Models:
  - Name: s_coco
    In Collection: GFL
    Config: configs/students/s_coco.py
    Metadata: {Pair: GFL R18, Schedule: 1x, Published: '—', Recipe: mmdet, Deviations: '—'}
'''
    text = report.recipes_sections([students, method, other])
    headings = [line for line in text.splitlines() if line.startswith('## ')]
    assert headings == ['## AA (some/repo)', '## ZZ (some/repo)', '## Students alone']
    assert '| `zz_coco.py` | T → S | 1x | 40.0 | a file | none. |' in text
    assert 'zz_digits' not in text
    assert text.index('All ZZ rows: a note.') > text.index('`zz_coco.py`')


def test_methods_table_counts_configs_and_quotes_published_numbers_only():
    """Distillation collections only; configs counted per training set; the digits rows'
    measured values are not quoted as published."""
    text = '''Collections:
  - Name: ZZ
    Metadata: {Training Techniques: [Knowledge Distillation], Task: Object Detection}
    Paper: {Title: A paper, URL: 'https://x'}
    README: configs/zz/README.md
  - Name: Plain
    Metadata: {Task: Object Detection}
    README: r.md
Models:
  - Name: a
    In Collection: ZZ
    Metadata: {Training Data: COCO}
    Results: [{Task: Object Detection, Dataset: COCO, Metrics: {box AP: 40.5}}]
  - Name: b
    In Collection: ZZ
    Metadata: {Training Data: Digits}
    Results: [{Task: Object Detection, Dataset: Digits, Metrics: {box AP: 30.0}}]
  - Name: c
    In Collection: ZZ
    Metadata: {Training Data: COCO}
'''
    assert report.methods_rows([text]) == [
        ['ZZ', 'Object Detection', '[A paper](https://x)', '2 COCO, 1 Digits', '40.5',
         '[configs/zz/README.md](configs/zz/README.md)']]
