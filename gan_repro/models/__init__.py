"""Keras functional-API builders, one module per model family, named after their tables."""

from gan_repro.models.classifiers import cc_encoder_32, digit_classifier_b1
from gan_repro.models.cogan32 import cogan_discriminators_32, cogan_generators_32

__all__ = [
    "cc_encoder_32",
    "cogan_discriminators_32",
    "cogan_generators_32",
    "digit_classifier_b1",
]
