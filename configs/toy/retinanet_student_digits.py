# The toy retinanet student on the digits set (see ../_base_/models/toy_detectors.py).
_base_ = ['../_base_/toy_digits_det.py', '../_base_/models/toy_detectors.py']
model = _base_.retina_student
