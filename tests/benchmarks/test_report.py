"""benchmarks/report.py: generated tables from the committed raw results."""
import pytest

from benchmarks import report


def base(pair, schedule, seed, value, epochs, status=None):
    return dict(role='baseline', pair=pair, schedule=schedule, seed=seed, value=value,
                epochs=epochs, split='val', status=status, name=f'{pair}_student')


def test_committed_sections_match_the_raw_data():
    """Every generated section of the docs is what the committed raw data give (the
    suite's --check: a table edited by hand or stale raw data fails here)."""
    assert report.run(check=True) == []


def test_schedule_rows_pair_each_doubling_by_seed():
    """x2 vs x1 and x4 vs x2, per seed: +1.25 (within 1.5: yes), +3.25 (no); a seed
    missing at x4 leaves the pairing."""
    results = [base('gfl', 'x1', 0, 20.0, 3), base('gfl', 'x1', 1, 22.0, 3),
               base('gfl', 'x2', 0, 21.0, 6), base('gfl', 'x2', 1, 23.5, 6),
               base('gfl', 'x4', 0, 24.25, 12), base('gfl', 'x4', 1, None, 12)]
    rows = report.schedule_rows(results)
    assert [r[:4] for r in rows] == [['gfl', 'x1', '3', 'val'], ['gfl', 'x2', '6', 'val'],
                                     ['gfl', 'x4', '12', 'val']]
    assert rows[0][4] == '20.0, 22.0 (21.0 ± 1.4)' and rows[0][5:] == ['—', '—']
    assert rows[1][5].startswith('+1.2 [') and rows[1][6] == 'yes'   # (1.0 + 1.5) / 2
    assert rows[2][4] == '24.2' and rows[2][5] == '+3.2' and rows[2][6] == 'no'  # seed 0


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
