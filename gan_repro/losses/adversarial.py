"""Adversarial losses of the SCoGAN thesis (spec 001, section 2.1 and 2.2).

Discriminators and critics output raw logits / critic values, never a sigmoid (Tables 3.1/3.2
end in a linear unit; the loss code applies the sigmoid itself, Listing 6.8 L1395-1436). Every
function returns the plain mean over the local batch as a float32 scalar, so it can be used
inside ``tf.function`` and inside a ``tf.distribute`` replica context (the caller scales by the
global batch if it wants to; nothing here reduces across replicas).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from gan_repro.errors import check_choice

__all__ = [
    "ADVERSARIAL_LOSSES",
    "adversarial_losses",
    "ns_discriminator_loss",
    "ns_generator_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
]


def _f32(x) -> tf.Tensor:
    """Cast to float32 so the losses stay float32 scalars under mixed precision."""
    return tf.cast(x, tf.float32)


def ns_discriminator_loss(real_logits, fake_logits) -> tf.Tensor:
    """Discriminator loss of the (non-saturating) GAN: ``-mean log σ(real) - mean log(1-σ(fake))``.

    Thesis L418-420 (max_D E log D(x) + E log(1 - D(G(z)))), CoGAN Eq 3.1 (L641-643, whose minus
    signs are a typo) and the authors' code, Listing 6.8 (L1397-1436), which writes it as
    ``-mean(log(sigmoid(real))) - mean(log(1 - sigmoid(fake)))``.

    Implementation note: mathematically identical, but computed with softplus
    (``-log σ(x) = softplus(-x)`` and ``-log(1-σ(x)) = softplus(x)``) so that large logits
    (e.g. ±50) give finite values and finite gradients; the authors' ``log(sigmoid(.))`` form
    returns ``inf`` once ``σ`` rounds to 0 or 1 in float32.

    Args:
        real_logits: raw discriminator outputs on real samples, any shape (usually ``[B, 1]``).
        fake_logits: raw discriminator outputs on generated samples.

    Returns:
        float32 scalar: mean over the real batch plus mean over the fake batch.
    """
    real = _f32(real_logits)
    fake = _f32(fake_logits)
    return tf.reduce_mean(tf.math.softplus(-real)) + tf.reduce_mean(tf.math.softplus(fake))


def ns_generator_loss(fake_logits) -> tf.Tensor:
    """Non-saturating generator loss ``-mean log σ(fake)`` (L418-420; Listing 6.8, L1397-1436).

    Computed as ``mean softplus(-fake)``, identical to the code's
    ``-reduce_mean(log(sigmoid(fake)))`` but finite for large negative logits.

    Returns:
        float32 scalar.
    """
    return tf.reduce_mean(tf.math.softplus(-_f32(fake_logits)))


def wgan_critic_loss(real_scores, fake_scores) -> tf.Tensor:
    """WGAN critic loss ``mean(fake) - mean(real)`` (Eq 3.2, L649-651; Listing 6.8).

    The critic maximises ``E D(x) - E D(G(z))``, so it minimises this value. For WGAN-GP the
    caller adds ``GP_WEIGHT * gradient_penalty(...)`` (Eq 2.1; Listing 6.12, L1531-1533).

    Returns:
        float32 scalar.
    """
    return tf.reduce_mean(_f32(fake_scores)) - tf.reduce_mean(_f32(real_scores))


def wgan_generator_loss(fake_scores) -> tf.Tensor:
    """WGAN generator loss ``-mean(fake)`` (Eq 3.2; Listing 6.8, ``-reduce_mean(fake_output)``).

    Returns:
        float32 scalar.
    """
    return -tf.reduce_mean(_f32(fake_scores))


LossPair = tuple[Callable[..., tf.Tensor], Callable[..., tf.Tensor]]

#: ``name -> (discriminator/critic loss, generator loss)``. "ns" is the code's ``--loss ce``;
#: "wgan-gp" uses the WGAN functions, the trainer adds the gradient penalty to the critic loss.
ADVERSARIAL_LOSSES: dict[str, LossPair] = {
    "ns": (ns_discriminator_loss, ns_generator_loss),
    "wgan": (wgan_critic_loss, wgan_generator_loss),
    "wgan-gp": (wgan_critic_loss, wgan_generator_loss),
}


def adversarial_losses(name: str) -> LossPair:
    """Return ``(d_fn, g_fn)`` for ``name`` in ``ADVERSARIAL_LOSSES`` ("ns", "wgan", "wgan-gp").

    Raises:
        BadOptionError: ``name`` is not one of the keys (the message lists them).
    """
    check_choice("loss", name, ADVERSARIAL_LOSSES)
    return ADVERSARIAL_LOSSES[name]
