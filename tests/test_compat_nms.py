"""kd_mmdet.compat fix 5: mmcv's NMS under autocast (mixed or CPU half-precision)."""
import importlib

import torch
from mmcv.ops import batched_nms, nms


def boxes_and_scores(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 50
    wh = torch.rand(n, 2, generator=g) * 20 + 2
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g)


def test_nms_with_bf16_scores_keeps_the_fp32_selection():
    """fp32 boxes with bf16 scores (what a head gives under autocast) keep the boxes the
    all-fp32 call keeps, for nms and batched_nms."""
    boxes, scores = boxes_and_scores()
    # Scores exactly representable in bf16, so the two calls rank them alike.
    scores = scores.bfloat16().float()
    _, want = nms(boxes, scores, 0.5)
    _, got = nms(boxes, scores.bfloat16(), 0.5)
    assert torch.equal(got, want)
    idxs = torch.arange(len(boxes)) % 3
    _, want = batched_nms(boxes, scores, idxs, dict(iou_threshold=0.5))
    _, got = batched_nms(boxes, scores.bfloat16(), idxs, dict(iou_threshold=0.5))
    assert torch.equal(got, want)


def test_nms_with_bf16_boxes_and_scores_on_cpu():
    """Both in bf16 on the CPU (no bf16 kernel there) run, in fp32, on the same values."""
    boxes, scores = boxes_and_scores(seed=1)
    boxes, scores = boxes.bfloat16(), scores.bfloat16()
    _, want = nms(boxes.float(), scores.float(), 0.5)
    _, got = nms(boxes, scores, 0.5)
    assert torch.equal(got, want)


def test_the_kernel_sees_one_dtype_with_mixed_inputs(monkeypatch):
    """With fp32 boxes and bf16 scores, mmcv's nms kernel is called with both in fp32
    (the fix installed by ``import kd_mmdet``). This CPU's kernel accepts the mixed pair
    and selects the same boxes, so the selection alone does not show whether the fix is
    there."""
    module = importlib.import_module('mmcv.ops.nms')
    assert getattr(module.NMSop, '_kd_mmdet_fp32', False), 'compat fix 5 not installed'
    seen = []
    kernel = module.ext_module

    class Spy:
        def __getattr__(self, name):
            fn = getattr(kernel, name)

            def call(*args, **kwargs):
                seen.append((name, [a.dtype for a in args if torch.is_tensor(a)]))
                return fn(*args, **kwargs)
            return call

    monkeypatch.setattr(module, 'ext_module', Spy())
    boxes, scores = boxes_and_scores(seed=2)
    nms(boxes, scores.bfloat16(), 0.5)
    assert seen and seen[0] == ('nms', [torch.float32, torch.float32])
