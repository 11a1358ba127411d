from .distill_warmup_hook import DistillLossWarmupHook, warmup_factor
from .reseed_hook import ReseedHook, reseed
from .student_checkpoint_hook import StudentCheckpointHook

__all__ = ['DistillLossWarmupHook', 'warmup_factor', 'ReseedHook', 'reseed',
           'StudentCheckpointHook']
