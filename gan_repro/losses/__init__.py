"""Losses of the reproduced theses: pure functions of tensors returning float32 scalars.

SCoGAN (spec 001, section 2): adversarial (NS / WGAN / WGAN-GP), the WGAN-GP gradient penalty,
the soft-coupling regularisers (FR, SL, CC) and the VGG19 perceptual loss (PL).
"""

from gan_repro.losses.adversarial import (
    ADVERSARIAL_LOSSES,
    adversarial_losses,
    ns_discriminator_loss,
    ns_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)
from gan_repro.losses.coupling import feature_regulariser, latent_cycle_loss, semantic_loss
from gan_repro.losses.penalties import GP_WEIGHT, gradient_penalty
from gan_repro.losses.perceptual import (
    CONTENT_LAYERS,
    STYLE_LAYERS,
    VGG19_WEIGHTS_FILE,
    VGG19_WEIGHTS_URL,
    gram_matrix,
    perceptual_losses,
    vgg19_features,
    vgg19_weights_path,
)

__all__ = [
    "ADVERSARIAL_LOSSES",
    "CONTENT_LAYERS",
    "GP_WEIGHT",
    "STYLE_LAYERS",
    "VGG19_WEIGHTS_FILE",
    "VGG19_WEIGHTS_URL",
    "adversarial_losses",
    "feature_regulariser",
    "gradient_penalty",
    "gram_matrix",
    "latent_cycle_loss",
    "ns_discriminator_loss",
    "ns_generator_loss",
    "perceptual_losses",
    "semantic_loss",
    "vgg19_features",
    "vgg19_weights_path",
    "wgan_critic_loss",
    "wgan_generator_loss",
]
