from .single_teacher_distill import (SingleTeacherDistill, inherit_weights,
                                     load_teacher_checkpoint)

__all__ = ['SingleTeacherDistill', 'inherit_weights', 'load_teacher_checkpoint']
