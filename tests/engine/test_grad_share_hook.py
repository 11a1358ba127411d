"""kd_mmdet.GradShareHook: each loss term's gradient share on the student."""
import glob
import json
import os.path as osp
import sys

import pytest
import torch

from kd_mmdet.engine.hooks import GradShareHook, grad_shares
from tests.test_train_e2e import data_options, run
from tests.test_train_e2e import teacher  # noqa: F401  one GFL teacher for the module


def test_grad_shares_match_a_slow_transcription():
    """Norms, shares and cosines against per-term .backward() on a fresh graph each."""
    torch.manual_seed(0)
    w1, w2 = torch.randn(3, 4, requires_grad=True), torch.randn(4, requires_grad=True)
    frozen = torch.randn(4, requires_grad=False)
    x = torch.randn(5, 3)

    def terms():
        h = x @ w1
        return {'student.loss_cls': (h ** 2).mean(),
                'student.loss_bbox': (h @ w2).abs().mean(),
                'distill.loss_a': ((h - frozen) ** 2).sum() * 0.1,
                'distill.loss_b': -(h @ w2).mean()}

    def slow_grad(name_or_names):
        names = [name_or_names] if isinstance(name_or_names, str) else name_or_names
        w1.grad = w2.grad = None
        t = terms()
        sum(t[n] for n in names).backward()
        g = [p.grad if p.grad is not None else torch.zeros_like(p) for p in (w1, w2)]
        return torch.cat([v.reshape(-1) for v in g])

    rows = {r['term']: r for r in grad_shares(terms(), [w1, w2],
                                              ['student.loss_cls', 'student.loss_bbox'])}
    g_task = slow_grad(['student.loss_cls', 'student.loss_bbox'])
    assert rows['task']['grad_norm'] == pytest.approx(float(g_task.norm()), rel=1e-5)
    assert set(rows) == {'task', 'distill.loss_a', 'distill.loss_b'}
    for name in ('distill.loss_a', 'distill.loss_b'):
        g = slow_grad(name)
        assert rows[name]['grad_norm'] == pytest.approx(float(g.norm()), rel=1e-5)
        assert rows[name]['share'] == pytest.approx(float(g.norm() / g_task.norm()), rel=1e-5)
        cos = float(g @ g_task / (g.norm() * g_task.norm()))
        assert rows[name]['cos'] == pytest.approx(cos, rel=1e-5, abs=1e-6)
        assert rows[name]['value'] == pytest.approx(float(terms()[name]))
    assert w1.grad is not None  # the slow path used .grad; grad_shares must not:
    w1.grad = w2.grad = None
    grad_shares(terms(), [w1, w2], ['student.loss_cls'])
    assert w1.grad is None and w2.grad is None


def test_bad_arguments_name_the_hook():
    with pytest.raises(ValueError, match='GradShareHook: interval'):
        GradShareHook(interval=0)
    with pytest.raises(ValueError, match='GradShareHook: no task term'):
        grad_shares({'distill.loss': torch.ones((), requires_grad=True)}, [], [])


@pytest.mark.slow
def test_hook_logs_every_term_and_leaves_training_unchanged(tiny_digits, teacher,  # noqa: F811
                                                            tmp_path):
    """CWD on the toy GFL pair, one epoch (3 iterations) with and without the hook at
    interval 2: rows at iterations 0 and 2 for the task and the five CWD levels, finite
    and positive (but the 1x1 level); the trained weights are bit-for-bit those of the run
    without it."""
    config = str(tmp_path / 'cwd_diag.py')
    with open(config, 'w') as f:
        f.write(f"_base_ = [{osp.abspath('configs/cwd/cwd_fpn_gfl_digits.py')!r}]\n"
                "custom_hooks = [dict(type='kd_mmdet.GradShareHook', interval=2)]\n")
    common = ['--epochs', '1', '--cfg-options', f'model.teacher_ckpt={teacher}/epoch_1.pth',
              *data_options(tiny_digits)]
    run([sys.executable, 'tools/train.py', config, '--work-dir', str(tmp_path / 'a'), *common])
    run([sys.executable, 'tools/train.py', 'configs/cwd/cwd_fpn_gfl_digits.py',
         '--work-dir', str(tmp_path / 'b'), *common])
    path = glob.glob(str(tmp_path / 'a' / '*' / 'grad_share.json'))
    assert len(path) == 1
    rows = [json.loads(line) for line in open(path[0])]
    terms = ['task'] + [f'distill.loss_cwd_fpn{i}' for i in range(5)]
    assert [(r['iter'], r['term']) for r in rows] == [(i, t) for i in (0, 2) for t in terms]
    for r in rows:
        # P7 is 1x1 at 96 px: a softmax over one position makes CWD exactly 0 there.
        if r['term'] == 'distill.loss_cwd_fpn4':
            assert r['value'] == 0 and r['grad_norm'] == 0 and r['cos'] == 0, r
        else:
            assert r['grad_norm'] > 0 and r['value'] > 0 and -1 <= r['cos'] <= 1, r
    a = torch.load(str(tmp_path / 'a' / 'epoch_1.pth'), map_location='cpu')['state_dict']
    b = torch.load(str(tmp_path / 'b' / 'epoch_1.pth'), map_location='cpu')['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
