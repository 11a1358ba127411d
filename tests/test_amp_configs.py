"""Mixed precision in the configs: every toy distillation config trains under CPU bf16
(a bf16 channels_last teacher and the whole step under ``kd_mmdet.AutocastOptimWrapper``);
every COCO distillation config keeps fp32 and carries a working, commented AMP line."""
import glob
import os.path as osp

import pytest
import torch

from benchmarks.cost import build_model, fake_batch
from benchmarks.quality import CLS_RUNS, DET_RUNS, PAIRS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
RUNS = [r for r in DET_RUNS + CLS_RUNS if r.impl == 'kd_mmdet']


def amp_step_model(config: str):
    """The config's model and optim wrapper, switched to full bf16 mixed precision."""
    from mmengine.optim import build_optim_wrapper
    cfg, model = build_model(config, teacher_precision='bf16', teacher_channels_last=True)
    wrapper_cfg = cfg.optim_wrapper.copy()
    wrapper_cfg.update(type='kd_mmdet.AutocastOptimWrapper', device_type='cpu')
    return model, build_optim_wrapper(model, wrapper_cfg)


@pytest.mark.slow
@pytest.mark.parametrize('run', RUNS, ids=[r.name for r in RUNS])
def test_config_trains_under_bf16_autocast(run):
    """Two bf16 steps: every logged loss finite, the student's weights changed and still
    fp32, no teacher gradient; the distillation terms have a gradient in the student."""
    task = PAIRS[run.pair].task
    torch.manual_seed(0)
    model, wrapper = amp_step_model(run.config)
    model.train()
    data = fake_batch(task, 64 if task == 'det' else 32, 2)
    student = model.student
    before = {k: v.detach().clone() for k, v in student.named_parameters()}
    for _ in range(2):
        log = model.train_step(data, wrapper)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values()), log
    assert any(k.startswith(('distill.', 'loss_distill', 'loss_cross')) for k in log), log
    changed = [k for k, v in student.named_parameters() if not torch.equal(v, before[k])]
    assert changed and all(v.dtype == torch.float32 for v in student.parameters())
    assert all(p.grad is None or not p.grad.abs().sum() for p in model.teacher.parameters())
    # The distillation terms together reach the student's parameters.
    with wrapper.optim_context(model):
        prepared = model.data_preprocessor(data, True)
        losses = model.loss(prepared['inputs'], prepared['data_samples'])
    distill = sum(v.float().sum() for k, v in losses.items()
                  if k.startswith(('distill.', 'loss_distill', 'loss_cross')))
    params = [p for p in student.parameters() if p.requires_grad]
    grads = torch.autograd.grad(distill, params, allow_unused=True)
    assert any(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
               for g in grads)


COCO_DISTILL = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*_coco.py'))
                      if '/students/' not in p)
AMP_LINE = "# optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')"


@pytest.mark.parametrize('path', COCO_DISTILL, ids=[osp.basename(p) for p in COCO_DISTILL])
def test_coco_config_keeps_fp32_and_its_amp_line_works(path, tmp_path):
    """A COCO distillation config trains in fp32 as written; uncommenting its AMP line
    gives mmengine's AmpOptimWrapper around the same optimizer and clipping."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.model.get('teacher_precision') is None
    assert AMP_LINE in open(path).read()
    leaf = tmp_path / 'amp.py'
    leaf.write_text(f'_base_ = [{path!r}]\n{AMP_LINE[2:]}\n')
    amp = Config.fromfile(str(leaf))
    assert amp.optim_wrapper.type == 'AmpOptimWrapper'
    assert amp.optim_wrapper.loss_scale == 'dynamic'
    assert amp.optim_wrapper.optimizer == cfg.optim_wrapper.optimizer
    assert amp.optim_wrapper.get('clip_grad') == cfg.optim_wrapper.get('clip_grad')
