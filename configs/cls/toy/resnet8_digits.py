# The toy student on the digits classification set, trained alone (the baseline).
_base_ = ['../../_base_/toy_digits_cls.py', '../../_base_/models/toy_classifiers.py']
model = _base_.cls_student
