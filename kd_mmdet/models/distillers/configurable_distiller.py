"""mmrazor's ConfigurableDistiller, plus per-term loss logs and a loss-weight scale.

Two things mmrazor 1.0's distiller cannot do, needed by several methods here:

- A loss may return a ``dict`` of named terms (FGD's fg/bg/mask/global, DKD's
  TCKD/NCKD). Each term becomes its own entry ``<loss name>_<term>``, so mmengine logs
  it separately and sums it into the total like any other loss.
- ``loss_scale`` multiplies every distillation loss; ``DistillLossWarmupHook`` sets it
  (DKD's warm-up, Zhao et al. CVPR 2022, sec. 4).
"""
from typing import Dict

from mmrazor.models.distillers import ConfigurableDistiller as _RazorConfigurableDistiller
from torch import Tensor

from kd_mmdet.registry import MODELS


@MODELS.register_module()
class ConfigurableDistiller(_RazorConfigurableDistiller):
    """Drop-in for mmrazor's ``ConfigurableDistiller`` (same arguments).

    Attributes:
        loss_scale: factor applied to every distillation loss (1 unless a warm-up
            hook lowers it).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.loss_scale = 1.0

    def compute_distill_losses(self) -> Dict[str, Tensor]:
        """Every configured loss, dict results flattened to ``<name>_<term>``."""
        losses: Dict[str, Tensor] = {}
        for loss_name, forward_mappings in self.loss_forward_mappings.items():
            kwargs = {key: self.get_record(**record)
                      for key, record in forward_mappings.items()}
            result = self.distill_losses[loss_name](**kwargs)
            if isinstance(result, dict):
                for term, value in result.items():
                    losses[f'{loss_name}_{term}'] = value * self.loss_scale
            else:
                losses[loss_name] = result * self.loss_scale
        return losses
