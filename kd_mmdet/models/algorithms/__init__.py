from .bld import BlockwiseLogitDistill
from .crosskd import CrossKDDistill
from .roi_head_distill import RoIHeadDistill
from .single_teacher_distill import (SingleTeacherDistill, inherit_weights,
                                     load_teacher_checkpoint)

__all__ = ['BlockwiseLogitDistill', 'CrossKDDistill', 'RoIHeadDistill', 'SingleTeacherDistill',
           'inherit_weights', 'load_teacher_checkpoint']
