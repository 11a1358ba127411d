from .distill_warmup_hook import DistillLossWarmupHook, warmup_factor

__all__ = ['DistillLossWarmupHook', 'warmup_factor']
