# The toy teacher on the digits classification set (see ../../_base_/models/toy_classifiers.py).
_base_ = ['../../_base_/toy_digits_cls.py', '../../_base_/models/toy_classifiers.py']
model = _base_.cls_teacher
