"""How much each distillation term pulls on the student, against the task loss.

A distillation loss helps only if its gradient on the student is neither negligible nor
overwhelming beside the detector's own loss, and does not point against it. The logged
loss values cannot tell: a term of value 0.1 may carry ten times the task's gradient
(FGD's sums over pixels) and a term of value 10 almost none. :class:`GradShareHook`
measures it directly: every ``interval`` iterations it runs the step's forward once more
on the same batch, in the step's precision (the optimizer wrapper's ``optim_context``),
and for each loss term ``L_k`` takes the gradient on the student's trainable parameters
θ alone (the teacher is frozen, connectors are not the student):

    norm_k  = ‖∂L_k/∂θ‖₂          share_k = norm_k / ‖∂L_task/∂θ‖₂
    cos_k   = ⟨∂L_k/∂θ, ∂L_task/∂θ⟩ / (norm_k · ‖∂L_task/∂θ‖₂)

where ``L_task`` is the sum of the student's own terms (``student.*`` in kd_mmdet's and
mmrazor's algorithms). ``cos_k < 0`` means the term fights the task loss. Each
measurement is one JSON line of ``<log_dir>/grad_share.json``::

    {"iter": 0, "epoch": 0, "term": "distill.loss_cwd_fpn0", "value": 3.1,
     "grad_norm": 0.8, "share": 0.4, "cos": 0.05}

(plus ``"term": "task"`` with its own norm). Terms given per FPN level by the config
(``loss_cwd_fpn0`` … ``loss_cwd_fpn4``) are measured per level. The measurement leaves
training unchanged: gradients are taken with ``torch.autograd.grad`` (nothing reaches
``.grad``), the RNG states and every buffer (BN running statistics) are restored
afterwards, so samplers draw the same numbers and the weights trained with the hook equal
those trained without it, bit for bit (tested). It costs one forward and one backward per
term every ``interval`` iterations.

Off by default; one line in a config turns it on::

    custom_hooks = [dict(type='kd_mmdet.GradShareHook', interval=32)]
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from kd_mmdet.registry import HOOKS


def _flat_grad(loss: torch.Tensor, params: Sequence[torch.nn.Parameter]) -> torch.Tensor:
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1).float()
                      for g, p in zip(grads, params)])


def grad_shares(terms: Dict[str, torch.Tensor], params: Sequence[torch.nn.Parameter],
                task_terms: Sequence[str]) -> List[dict]:
    """Value, gradient norm, share of the task gradient norm and cosine with the task
    gradient of every term (see the module docstring); the first row is ``task``.

    Args:
        terms: scalar loss tensors by name, all on one graph.
        params: the parameters the gradients are taken on.
        task_terms: the names whose sum is the task loss.
    """
    if not task_terms:
        raise ValueError(f'GradShareHook: no task term among {sorted(terms)}')
    task = sum(terms[k] for k in task_terms)
    g_task = _flat_grad(task, params)
    n_task = g_task.norm()
    rows = [dict(term='task', value=float(task.detach()), grad_norm=float(n_task), share=1.0,
                 cos=1.0)]
    for name, loss in terms.items():
        if name in task_terms:
            continue
        g = _flat_grad(loss, params)
        n = g.norm()
        cos = float(g @ g_task / (n * n_task)) if n > 0 and n_task > 0 else 0.0
        rows.append(dict(term=name, value=float(loss.detach()), grad_norm=float(n),
                         share=float(n / n_task) if n_task > 0 else float('inf'), cos=cos))
    return rows


@HOOKS.register_module()
class GradShareHook(Hook):
    """Logs each loss term's value and gradient share on the student (module docstring).

    Args:
        interval: measure every this many training iterations (and at the first).
        task_prefix: loss names that start with it make up the task loss
            (``'student.'`` in kd_mmdet's and mmrazor's algorithms).
        student: attribute of the model that holds the student (``'architecture'``);
            ``None`` or a missing attribute: the whole model's trainable parameters.
        out_file: file name in the run's log directory.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 50, task_prefix: str = 'student.',
                 student: Optional[str] = 'architecture',
                 out_file: str = 'grad_share.json') -> None:
        if interval < 1:
            raise ValueError(f'GradShareHook: interval must be >= 1, got {interval}')
        self.interval = interval
        self.task_prefix = task_prefix
        self.student = student
        self.out_file = out_file

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter % self.interval != 0 or data_batch is None:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        student = getattr(model, self.student, model) if self.student else model
        params = [p for p in student.parameters() if p.requires_grad]
        cpu_state = torch.get_rng_state()
        cuda_state = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        buffers = [(b, b.detach().clone()) for b in model.buffers()]
        try:
            with runner.optim_wrapper.optim_context(runner.model):
                data = model.data_preprocessor(data_batch, True)
                losses = model._run_forward(data, mode='loss')
            terms = {}
            for name, value in losses.items():
                if 'loss' not in name:
                    continue
                terms[name] = sum(value) if isinstance(value, (list, tuple)) else value
            task_terms = [k for k in terms if k.startswith(self.task_prefix)]
            rows = grad_shares(terms, params, task_terms)
        finally:
            with torch.no_grad():
                for buf, saved in buffers:
                    buf.copy_(saved)
            torch.set_rng_state(cpu_state)
            if cuda_state is not None:
                torch.cuda.set_rng_state_all(cuda_state)
        path = osp.join(runner.log_dir, self.out_file)
        with open(path, 'a') as f:
            for row in rows:
                f.write(json.dumps(dict(iter=runner.iter, epoch=runner.epoch, **row)) + '\n')
