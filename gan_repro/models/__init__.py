"""Keras functional-API builders, one module per model family, named after their tables."""

from gan_repro.models.age_classifier import age_group_classifier
from gan_repro.models.classifiers import cc_encoder_32, digit_classifier_b1
from gan_repro.models.cogan32 import cogan_discriminators_32, cogan_generators_32
from gan_repro.models.cyclegan_digits import (
    mnist_usps_conv_discriminator_28,
    mnist_usps_patch_discriminator,
    mnist_usps_resblock_generator_28,
    mnist_usps_unet_generator,
)
from gan_repro.models.cyclegan_resnet import (
    cyclegan_patch_discriminator,
    cyclegan_resnet_generator,
    cyclegan_three_layer_discriminator,
)
from gan_repro.models.face_aging import (
    face_aging_cdcgan_discriminator,
    face_aging_cdcgan_generator,
    face_aging_cgan_discriminator,
    face_aging_cgan_generator,
    face_aging_cyclegan_discriminator,
    face_aging_cyclegan_generator,
    face_aging_dcgan_discriminator,
    face_aging_dcgan_generator,
)
from gan_repro.models.toy import toy_ring_discriminator, toy_ring_generator  # noqa: F401
from gan_repro.models.unit import unit_discriminators, unit_vae_pair

__all__ = [
    "age_group_classifier",
    "cc_encoder_32",
    "cogan_discriminators_32",
    "cogan_generators_32",
    "cyclegan_patch_discriminator",
    "cyclegan_resnet_generator",
    "cyclegan_three_layer_discriminator",
    "digit_classifier_b1",
    "face_aging_cdcgan_discriminator",
    "face_aging_cdcgan_generator",
    "face_aging_cgan_discriminator",
    "face_aging_cgan_generator",
    "face_aging_cyclegan_discriminator",
    "face_aging_cyclegan_generator",
    "face_aging_dcgan_discriminator",
    "face_aging_dcgan_generator",
    "mnist_usps_conv_discriminator_28",
    "mnist_usps_patch_discriminator",
    "mnist_usps_resblock_generator_28",
    "mnist_usps_unet_generator",
    "unit_discriminators",
    "unit_vae_pair",
]
