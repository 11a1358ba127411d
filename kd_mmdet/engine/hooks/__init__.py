from .distill_warmup_hook import DistillLossWarmupHook, warmup_factor
from .grad_share_hook import GradShareHook, grad_shares
from .reseed_hook import ReseedHook, reseed
from .student_checkpoint_hook import StudentCheckpointHook

__all__ = ['DistillLossWarmupHook', 'warmup_factor', 'GradShareHook', 'grad_shares',
           'ReseedHook', 'reseed', 'StudentCheckpointHook']
