"""tools/plan.py: the plan file, its commands, and the toy twin trained end to end."""
import csv
import glob
import json
import os
import os.path as osp
import shlex
from datetime import datetime, timedelta

import pytest
import yaml
from mmengine.config import Config

from tests.tools import REPO, load_tool

plan_tool = load_tool('tools/plan.py')
repro = plan_tool.load_repro_table()
PLAN = plan_tool.load_plan()


def test_plan_rows_are_the_issue_plan():
    """Six rows in the plan's order, each pair as written (fpn-rx18 read as fpn-r18)."""
    got = [(r['method'], r['teacher'], r['student'], r['estimate']) for r in PLAN['rows']]
    assert got == [('CWD', 'gfl-rx101', 'gfl-r18', '2 days'),
                   ('ReviewKD', 'fpn-rx101', 'fpn-r18', '2 days'),
                   ('DKD', 'fpn-rx101', 'fpn-r18', '1 day'),
                   ('LD', 'gfl-rx101', 'gfl-r18', '2 days'),
                   ('FGD', 'fpn-rx101', 'fpn-r18', '2 days'),
                   ('MGD', 'fpn-rx101', 'fpn-r18', '1 day')]


@pytest.mark.parametrize('row', PLAN['rows'], ids=lambda r: r['method'])
def test_each_row_and_its_toy_twin_run_the_rows_method(row):
    """The COCO config and the toy config of a row distil with the row's method (as
    tools/repro_table.py names it from the config), on the same detector family."""
    coco, toy = (Config.fromfile(osp.join(REPO, row[k])) for k in ('config', 'toy'))
    assert repro.describe_method(coco) == repro.describe_method(toy) == row['method']
    family = {'gfl': 'GFL', 'fpn': 'FasterRCNN'}[row['student'].split('-')[0]]
    assert coco.model.architecture.type.split('.')[-1] == family
    assert toy.model.architecture.type.split('.')[-1] == family
    assert toy.model.teacher.type.split('.')[-1] == family
    # The toy row's teacher is the toy teacher the plan trains first.
    teacher_toy = Config.fromfile(osp.join(REPO, PLAN['teachers'][row['teacher']]['toy']))
    assert toy.model.teacher.to_dict() == teacher_toy.model.to_dict()


def test_load_plan_names_a_bad_row(tmp_path):
    """A row naming an unknown teacher, or a missing config, fails with the row named."""
    plan = yaml.safe_load(open(plan_tool.PLAN))
    plan['rows'][2]['teacher'] = 'fpn-rx152'
    bad = tmp_path / 'plan.yaml'
    bad.write_text(yaml.safe_dump(plan))
    with pytest.raises(ValueError, match=r"row 3 \(DKD\) names teacher 'fpn-rx152'"):
        plan_tool.load_plan(str(bad))
    plan = yaml.safe_load(open(plan_tool.PLAN))
    plan['rows'][0]['config'] = 'configs/cwd/nothing.py'
    bad.write_text(yaml.safe_dump(plan))
    with pytest.raises(ValueError, match='configs/cwd/nothing.py'):
        plan_tool.load_plan(str(bad))


def test_print_gives_a_command_per_row_and_baseline(capsys):
    """--print: the baselines and six rows, each with the config, the GPU count and its
    own work dir; every launcher's script exists."""
    for launcher in plan_tool.LAUNCHERS:
        assert plan_tool.main(['--print', '--launcher', launcher, '--gpus', '4',
                               '--auto-scale-lr']) == 0
        lines = capsys.readouterr().out.splitlines()
        commands = lines[1::2]
        runs = plan_tool.plan_runs(PLAN, toy=False)
        assert len(commands) == len(runs) == 8
        for run, cmd in zip(runs, commands):
            argv = shlex.split(cmd)
            assert run.config in argv and f'work_dirs/plan/{run.name}' in argv
            if launcher == 'dist':
                assert argv[:4] == ['bash', 'tools/dist_train.sh', run.config, '4']
            elif launcher == 'mim':
                assert argv[:4] == ['mim', 'train', 'kd_mmdet', run.config]
                assert argv[argv.index('--gpus') + 1] == '4'
                assert argv[argv.index('--launcher') + 1] == 'pytorch'
            else:
                assert 'GPUS=4' in argv and 'tools/slurm_train.sh' in argv
    assert osp.isfile(osp.join(REPO, 'tools', 'dist_train.sh'))
    with pytest.raises(ValueError, match='--gpus must be >= 1'):
        plan_tool.train_command(runs[0], 'w', 'dist', 0)


def print_plan(capsys, *args):
    """``tools/plan.py --print ARGS``: exit code, comment lines, commands (split), stderr."""
    code = plan_tool.main(['--print', *args])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    return (code, [line for line in lines if line.startswith('#')],
            [shlex.split(line) for line in lines if not line.startswith('#')], err)


def test_print_at_the_recipes_batch_adds_nothing(capsys):
    """--gpus 8 (8 x 2 = the recipe's 16): the commands as before, no flag, no warning."""
    code, comments, commands, err = print_plan(capsys, '--gpus', '8')
    assert code == 0 and err == ''
    assert len(commands) == 8 and not any(c.startswith('# WARNING') for c in comments)
    run = plan_tool.plan_runs(PLAN, toy=False)[0]
    assert commands[0] == ['bash', 'tools/dist_train.sh', run.config, '8', '--work-dir',
                           f'work_dirs/plan/{run.name}']


def test_print_refuses_another_batch(capsys):
    """--gpus 16 alone: non-zero exit, nothing printed, both batches named."""
    code, comments, commands, err = print_plan(capsys, '--gpus', '16')
    assert code != 0 and comments == commands == []
    assert '16 GPUs x 2 images = batch 32' in err and "the recipe's is 16" in err
    assert '--auto-scale-lr' in err and '--keep-lr' in err


def test_print_auto_scale_lr_passes_the_flag_to_every_run(capsys):
    """--gpus 16 --auto-scale-lr: every training command ends in --auto-scale-lr."""
    for launcher in plan_tool.LAUNCHERS:
        if launcher == 'mim':  # one node only, see test_print_mim_refuses_several_nodes
            continue
        code, _, commands, _ = print_plan(capsys, '--gpus', '16', '--auto-scale-lr',
                                          '--launcher', launcher)
        assert code == 0 and len(commands) == 8
        assert all(argv[-1] == '--auto-scale-lr' for argv in commands)


def test_print_keep_lr_warns_with_both_batches(capsys):
    """--gpus 16 --keep-lr: a # WARNING line naming both batches, commands unchanged."""
    code, comments, commands, _ = print_plan(capsys, '--gpus', '16', '--keep-lr',
                                             '--launcher', 'slurm')
    assert code == 0 and len(commands) == 8
    warnings = [c for c in comments if c.startswith('# WARNING')]
    assert len(warnings) == 1 and 'batch 32' in warnings[0]
    assert "recipe's is 16" in warnings[0] and 'stays the batch-16 one' in warnings[0]
    assert not any('--auto-scale-lr' in argv for argv in commands)


def test_print_dist_beyond_one_node_gives_the_multi_node_form(capsys):
    """--launcher dist --gpus 16: NNODES=2, a NODE_RANK to fill in, 8 processes a node."""
    code, comments, commands, _ = print_plan(capsys, '--gpus', '16', '--auto-scale-lr')
    assert code == 0 and len(commands) == len(comments) == 8
    run = plan_tool.plan_runs(PLAN, toy=False)[0]
    assert commands[0][:7] == ['NNODES=2', 'NODE_RANK=<0..1>', 'MASTER_ADDR=<address-of-node-0>',
                               'PORT=29500', 'bash', 'tools/dist_train.sh', run.config]
    assert all(argv[7] == '8' for argv in commands)
    assert all(c.endswith('run on each of the 2 nodes, NODE_RANK 0 to 1') for c in comments)


def test_print_dist_refuses_a_partial_node(capsys):
    """--launcher dist --gpus 12 on 8-GPU nodes: refused, pointing at --launcher slurm."""
    code, _, commands, err = print_plan(capsys, '--gpus', '12', '--auto-scale-lr')
    assert code != 0 and commands == []
    assert 'not a multiple of --gpus-per-node 8' in err and '--launcher slurm' in err


def test_print_mim_refuses_several_nodes(capsys):
    """mim train's pytorch launcher is single-node: --gpus 16 is refused."""
    code, _, commands, err = print_plan(capsys, '--gpus', '16', '--auto-scale-lr',
                                        '--launcher', 'mim')
    assert code != 0 and commands == [] and 'runs on one node' in err


def test_human_duration_units():
    """Minutes under an hour, hours under two days, days beyond."""
    assert repro.human_duration(None) == repro.MISSING
    assert repro.human_duration(59 * 60) == '59.0 min'
    assert repro.human_duration(3600) == '1.0 h'
    assert repro.human_duration(47.5 * 3600) == '47.5 h'
    assert repro.human_duration(2 * 86400) == '2.0 days'


def test_table_of_runs_not_started(tmp_path):
    """Without work dirs every row is listed, nothing filled in, state 'not started'."""
    runs = plan_tool.plan_runs(PLAN, toy=False)
    table = plan_tool.plan_table(PLAN, runs, str(tmp_path), toy=False)
    assert [r['method'] for r in table] == [r['method'] for r in PLAN['rows']] + ['baseline'] * 2
    assert all(r['epochs'] == 'not run' and r['student mAP'] == repro.MISSING for r in table)
    assert table[0]['teacher'] == 'gfl-rx101' and table[1]['student'] == 'fpn-r18'
    status = plan_tool.status_table(PLAN, runs, str(tmp_path))
    assert {r['state'] for r in status} == {'not started'}


def fake_run(root, run, epochs_done, max_epochs, student_map=None, teacher_map=None,
             hours=1.0):
    """A work dir as mmengine leaves it: the dumped config, the scalars (training rows
    up to ``epochs_done``, then one validation row) and a log spanning ``hours``."""
    vis = osp.join(root, run.name, '20261126_000000', 'vis_data')
    os.makedirs(vis)
    model = dict(type='GFL', backbone=dict(type='ResNet', depth=18))
    if run.role == 'row':
        model = dict(architecture=model, teacher=dict(model, backbone=dict(depth=101)),
                     distiller=dict(distill_losses=dict(loss_x=dict(type='kd_mmdet.CWDLoss'))))
    Config(dict(model=model, train_cfg=dict(max_epochs=max_epochs))).dump(
        osp.join(vis, 'config.py'))
    rows = [dict(loss=1.0, epoch=e, iter=1, step=e) for e in range(1, epochs_done + 1)]
    if student_map is not None:
        rows.append({'coco/bbox_mAP': student_map / 100, 'step': epochs_done})
        if teacher_map is not None:
            rows[-1]['teacher.coco/bbox_mAP'] = teacher_map / 100
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in rows)
    end = datetime(2026, 11, 26) + timedelta(hours=hours)
    with open(osp.join(osp.dirname(vis), '20261126_000000.log'), 'w') as f:
        for stamp in (datetime(2026, 11, 26), end):
            f.write(f'{stamp:%Y/%m/%d %H:%M:%S} - mmengine - INFO - step\n')


def test_table_fills_finished_runs_against_their_familys_baseline(tmp_path):
    """A finished row: both mAPs, epochs, wall time in hours or days, delta against the
    baseline of its own family. A partial row or a partial baseline fills nothing that
    depends on it."""
    runs = {r.name: r for r in plan_tool.plan_runs(PLAN, toy=False)}
    names = [r.name for r in plan_tool.plan_runs(PLAN, toy=False)]
    gfl_base, fpn_base, cwd, review, dkd = names[:5]
    root = str(tmp_path)
    fake_run(root, runs[gfl_base], 12, 12, student_map=30.0, hours=10)
    fake_run(root, runs[fpn_base], 5, 12, student_map=20.0)  # stopped at epoch 5
    fake_run(root, runs[cwd], 12, 12, student_map=32.5, teacher_map=45.9, hours=50)
    fake_run(root, runs[review], 12, 12, student_map=33.0, teacher_map=43.1, hours=30)
    fake_run(root, runs[dkd], 7, 12, student_map=25.0, teacher_map=43.1)
    table = {r['method']: r for r in plan_tool.plan_table(PLAN, list(runs.values()), root,
                                                          toy=False)[:6]}
    base = plan_tool.plan_table(PLAN, list(runs.values()), root, toy=False)[6:]
    assert table['CWD'] == {'method': 'CWD', 'teacher': 'gfl-rx101', 'teacher mAP': '45.9',
                            'student': 'gfl-r18', 'student mAP': '32.5', 'epochs': '12',
                            'time': '2.1 days', plan_tool.DELTA: '+2.5'}
    # The fpn baseline stopped at epoch 5: the ReviewKD row has no delta.
    assert table['ReviewKD']['student mAP'] == '33.0' and table['ReviewKD']['time'] == '30.0 h'
    assert table['ReviewKD'][plan_tool.DELTA] == repro.MISSING
    assert table['DKD']['epochs'] == '7/12 (partial)'
    assert {table['DKD'][k] for k in ('student mAP', 'teacher mAP', 'time')} == {repro.MISSING}
    assert table['LD']['epochs'] == 'not run'
    assert base[0]['student mAP'] == '30.0' and base[0][plan_tool.DELTA] == '+0.0'
    assert base[1]['epochs'] == '5/12 (partial)' and base[1]['student mAP'] == repro.MISSING
    states = {r['run']: r['state'] for r in plan_tool.status_table(PLAN, list(runs.values()),
                                                                    root)}
    assert states[cwd] == 'finished: 32.5 mAP, 12 epochs, 2.1 days'
    assert states[dkd] == 'partial: 7/12 epochs'
    assert states[names[6]] == 'not started'


# ---- the toy twin, end to end (slow) ---------------------------------------------------
def logged(work_dir):
    """The last validation scalars of a work dir."""
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    return [json.loads(line) for line in open(scalars) if 'coco/bbox_mAP' in line][-1]


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    """The whole toy plan at 1 epoch on 8 + 8 images of 96 px, two runs side by side."""
    root = str(tmp_path_factory.mktemp('plan_toy'))
    assert plan_tool.main(['--toy', '--work-root', root, '--epochs', '1', '--teacher-epochs',
                           '1', '--train', '8', '--val', '8', '--jobs', '2',
                           '--keep-all-scores', '--csv', osp.join(root, 'table.csv'),
                           '--cfg-options', 'train_dataloader.batch_size=4']) == 0
    return root


@pytest.mark.slow
def test_toy_plan_fills_the_table(toy_root, capsys):
    """Every row and baseline filled; each row's teacher mAP is its toy teacher's own
    (the right checkpoint was loaded), and delta = student − its family's baseline."""
    runs = plan_tool.plan_runs(PLAN, toy=True)
    table = plan_tool.plan_table(PLAN, runs, toy_root, toy=True)
    columns = plan_tool.PLAN_COLUMNS + [plan_tool.DELTA]

    def own_map(config):  # the mAP a toy teacher or baseline logged in its own run
        name = osp.splitext(osp.basename(config))[0]
        return 100 * logged(osp.join(toy_root, name))['coco/bbox_mAP']

    teacher_map = {t: own_map(v['toy']) for t, v in PLAN['teachers'].items()}
    base_map = {s: own_map(v['toy']) for s, v in PLAN['students'].items()}
    rows = [r for r in runs if r.role == 'row'] + [r for r in runs if r.role == 'baseline']
    assert len(table) == len(rows) == 8
    for run, cells in zip(rows, table):
        assert set(cells) == set(columns)
        student = 100 * logged(osp.join(toy_root, run.name))['coco/bbox_mAP']
        assert cells['student mAP'] == f'{student:.1f}'
        assert cells['epochs'] == '1' and cells['time'].endswith(' min')
        assert cells[plan_tool.DELTA] == f'{student - base_map[run.student]:+.1f}'
        if run.role == 'row':
            assert cells['teacher mAP'] == f'{teacher_map[run.teacher]:.1f}'
            assert cells['teacher'] == PLAN['teachers'][run.teacher]['toy_name']
        else:
            assert cells['teacher mAP'] == repro.MISSING
    with open(osp.join(toy_root, 'table.csv')) as f:
        assert list(csv.DictReader(f)) == table
    # Printed markdown: the plan's columns in its order, delta appended.
    plan_tool.main(['--toy', '--table', '--work-root', toy_root])
    header = capsys.readouterr().out.splitlines()[0]
    assert header == '| ' + ' | '.join(columns) + ' |'


@pytest.mark.slow
def test_toy_plan_status_and_rerun(toy_root, capsys):
    """--status lists every run as finished; a second --toy trains nothing again."""
    status = plan_tool.status_table(PLAN, plan_tool.plan_runs(PLAN, toy=True), toy_root)
    assert len(status) == 10 and all(r['state'].startswith('finished') for r in status)
    settings = plan_tool.ToySettings(num_train=8, num_val=8, epochs=1, teacher_epochs=1)
    assert plan_tool.run_toy(PLAN, toy_root, settings) == []
