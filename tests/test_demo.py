"""scripts/demo.sh and the teacher it distils from (demo/): the bundled checkpoint is the
teacher its config builds, and the script trains the student and CWD side by side."""
import csv
import glob
import os
import os.path as osp
import subprocess

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER_CONFIG = osp.join(REPO, 'demo', 'gfl_teacher-r18_digits.py')
TEACHER_CKPT = osp.join(REPO, 'demo', 'gfl_teacher-r18_digits.pth')
CWD_CONFIG = osp.join(REPO, 'demo', 'cwd_fpn_gfl-r18_digits.py')


def config_model(path):
    from mmengine.config import Config
    return Config.fromfile(path).model


def test_the_demo_distils_from_the_teacher_its_config_trains():
    """The CWD run's teacher is demo/gfl_teacher-r18_digits.py's model (its pretrained
    init aside): a change to one that the other misses fails here, not at load time."""
    teacher = config_model(TEACHER_CONFIG).to_dict()
    inside = config_model(CWD_CONFIG).teacher.to_dict()
    assert teacher['backbone'].pop('init_cfg')['type'] == 'Pretrained'
    assert inside['backbone'].pop('init_cfg') is None
    assert inside == teacher
    assert config_model(CWD_CONFIG).teacher_ckpt == 'demo/gfl_teacher-r18_digits.pth'


def test_the_bundled_teacher_loads_strictly_with_its_provenance():
    """Every tensor of the teacher model, no other, stored as float16 (the bundle's size)
    and loaded into the fp32 model; its meta names how it was built and what it scored."""
    import kd_mmdet  # noqa: F401  registers the scopes
    from mmengine.registry import MODELS, init_default_scope
    ckpt = torch.load(TEACHER_CKPT, map_location='cpu', weights_only=True)
    state = ckpt['state_dict']
    floats = [v for v in state.values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    init_default_scope('mmdet')
    cfg = config_model(TEACHER_CONFIG)
    cfg.backbone.init_cfg = None
    model = MODELS.build(cfg)
    model.load_state_dict(state, strict=True)
    weight = model.bbox_head.gfl_cls.weight
    assert weight.dtype == torch.float32
    assert torch.equal(weight, state['bbox_head.gfl_cls.weight'].float())
    meta = ckpt['meta']
    assert meta['config'] == 'demo/gfl_teacher-r18_digits.py'
    assert meta['built_by'] == 'scripts/demo_teacher.sh'
    assert len(meta['source_sha256']) == 64
    assert 0 < meta['val_bbox_mAP'] <= 100 and 0 < meta['pretrain_top1'] <= 100
    assert meta['dataset_meta']['classes'] == tuple('0123456789')


def demo_env(tmp_path, **extra):
    env = dict(os.environ, OMP_NUM_THREADS='2', DEMO_WORK=str(tmp_path / 'work'),
               DEMO_TRAIN='16', DEMO_VAL='8', DEMO_SIZE='64', DEMO_EPOCHS='1')
    env.update(extra)
    return env


def test_the_demo_refuses_a_missing_teacher_before_training(tmp_path):
    out = subprocess.run(['bash', 'scripts/demo.sh'], cwd=REPO, capture_output=True, text=True,
                         env=demo_env(tmp_path, DEMO_TEACHER=str(tmp_path / 'none.pth')),
                         timeout=600)
    assert out.returncode == 2
    assert f"no teacher checkpoint at '{tmp_path / 'none.pth'}'" in out.stderr
    assert not osp.exists(tmp_path / 'work' / 'student')


def log_span(work_dir):
    """The first and last timestamps of a run's mmengine log."""
    import re
    from datetime import datetime
    log = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))[-1]
    stamps = [datetime.strptime(m.group(1), '%Y/%m/%d %H:%M:%S') for m in
              (re.match(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) - mmengine', line)
               for line in open(log)) if m]
    return stamps[0], stamps[-1]


@pytest.mark.slow
def test_the_demo_trains_student_and_cwd_side_by_side(tmp_path):
    """One epoch on 16 images: both runs end, and at the same time (each starts before
    the other ends), and the table has both rows."""
    out = subprocess.run(['bash', 'scripts/demo.sh'], cwd=REPO, capture_output=True, text=True,
                         env=demo_env(tmp_path, DEMO_PRECISION='fp32'), timeout=1800)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    assert 'student and CWD side by side, 1 thread(s) each' in out.stdout
    work = tmp_path / 'work'
    (s_start, s_end), (c_start, c_end) = (log_span(str(work / n)) for n in ('student', 'cwd'))
    assert s_start < c_end and c_start < s_end
    with open(work / 'table.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['run'], r['method'], r['teacher']) for r in rows] == [
        ('student', 'baseline', '—'), ('cwd', 'CWD', 'GFL R18')]
