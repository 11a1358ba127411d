from .digits_det import CLASSES as DIGIT_CLASSES
from .digits_cls import make_digits_classification
from .digits_crops import make_digits_crops
from .digits_det import make_digits_detection

__all__ = ['DIGIT_CLASSES', 'make_digits_classification', 'make_digits_crops',
           'make_digits_detection']
