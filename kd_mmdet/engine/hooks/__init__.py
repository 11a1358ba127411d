from .distill_warmup_hook import DistillLossWarmupHook, warmup_factor
from .reseed_hook import ReseedHook, reseed

__all__ = ['DistillLossWarmupHook', 'warmup_factor', 'ReseedHook', 'reseed']
