"""Shared builders for the algorithm tests: a toy config's distillation model and a
hand-made detection batch."""
import copy
import logging

import torch
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmrazor.registry import MODELS


def build_algorithm(cfg, init_weights: bool = True, **overrides):
    """``cfg.model`` built without its teacher checkpoint, after ``torch.manual_seed(0)``,
    with ``overrides`` applied; weights initialised (quietly) unless told not to."""
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    model_cfg.update(teacher_ckpt=None)
    model_cfg.update(overrides)
    init_default_scope('mmrazor')
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(model_cfg))
    if init_weights:
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every tensor
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    return model


def det_batch(model, n: int = 2, size: int = 96) -> dict:
    """``n`` random uint8 images of ``size`` px with two boxes each (labels 3 and the
    image index), through the model's data preprocessor in training mode."""
    samples = []
    for i in range(n):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                        batch_input_shape=(size, size), scale_factor=(1, 1)))
        s.gt_instances = InstanceData(bboxes=torch.tensor([[10., 12., 50., 60.],
                                                           [40., 30., 90., 88.]]),
                                      labels=torch.tensor([3, i]))
        samples.append(s)
    g = torch.Generator().manual_seed(1)
    inputs = [torch.randint(0, 255, (3, size, size), dtype=torch.uint8, generator=g)
              for _ in range(n)]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
