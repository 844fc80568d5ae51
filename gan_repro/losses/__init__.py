"""Losses of the reproduced theses: pure functions of tensors returning float32 scalars.

SCoGAN (spec 001, section 2): adversarial (NS / WGAN / WGAN-GP), the WGAN-GP gradient penalty,
the soft-coupling regularisers (FR, SL, CC) and the VGG19 perceptual loss (PL).

Face aging (spec 000, section 2): the binary cross-entropy on logits (DCGAN, CGAN, CDCGAN), the
LSGAN mean squared error (CycleGAN), and the proposed discriminator loss ``alpha BC + beta LC``
with its "Lipschitz coefficients" term LC (section 2.3), whose denominators use an SSIM equal to
skimage's ``structural_similarity``.
"""

from gan_repro.losses.adversarial import (
    ADVERSARIAL_LOSSES,
    adversarial_losses,
    bce_with_logits,
    lsgan_loss,
    ns_discriminator_loss,
    ns_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)
from gan_repro.losses.coupling import feature_regulariser, latent_cycle_loss, semantic_loss
from gan_repro.losses.lipschitz import (
    D2_CHOICES,
    SSIM_FLOOR,
    lipschitz_coefficients,
    lipschitz_ssim_loss,
    lipschitz_term,
    pair_distance,
    partner_indices,
    proposed_loss,
)
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
from gan_repro.losses.ssim import ssim

__all__ = [
    "ADVERSARIAL_LOSSES",
    "CONTENT_LAYERS",
    "D2_CHOICES",
    "GP_WEIGHT",
    "SSIM_FLOOR",
    "STYLE_LAYERS",
    "VGG19_WEIGHTS_FILE",
    "VGG19_WEIGHTS_URL",
    "adversarial_losses",
    "bce_with_logits",
    "feature_regulariser",
    "gradient_penalty",
    "gram_matrix",
    "latent_cycle_loss",
    "lipschitz_coefficients",
    "lipschitz_ssim_loss",
    "lipschitz_term",
    "lsgan_loss",
    "ns_discriminator_loss",
    "ns_generator_loss",
    "pair_distance",
    "partner_indices",
    "perceptual_losses",
    "proposed_loss",
    "semantic_loss",
    "ssim",
    "vgg19_features",
    "vgg19_weights_path",
    "wgan_critic_loss",
    "wgan_generator_loss",
]
