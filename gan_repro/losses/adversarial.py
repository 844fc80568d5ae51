"""Adversarial losses of the SCoGAN thesis (spec 001, section 2.1 and 2.2), plus the face-aging
thesis's BCE on logits and LSGAN MSE (spec 000, section 2.2).

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
    "bce_with_logits",
    "lsgan_loss",
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


def bce_with_logits(targets, logits) -> tf.Tensor:
    """Binary cross-entropy on logits, the face-aging thesis's BC (spec 000, 2.1 and 2.2).

    ``mean(-[t log σ(l) + (1 - t) log(1 - σ(l))])``: the BCE of thesis L498 with its sign typo
    fixed, i.e. what Keras' ``binary_crossentropy`` computes on ``sigmoid(logits)`` (used by the
    DCGAN, CGAN and CDCGAN discriminators and combined models, L820, L954, L982, and as BC in the
    proposed loss, L1044-1046). Computed with ``tf.nn.sigmoid_cross_entropy_with_logits``, so
    it is finite for any logit (Keras clips probabilities at 1e-7 instead, which only differs
    for ``|logit| > ~16``).

    Args:
        targets: labels in [0, 1]; soft or flipped labels are fine (the utkd notebook's
            ``0 + U(0, 0.1)`` / ``1 - U(0, 0.1)``, spec 8.13). Broadcast to ``logits``' shape;
            ``[B]`` targets against ``[B, 1]`` logits get a trailing axis first.
        logits: raw discriminator outputs, any shape (usually ``[B, 1]``).

    Returns:
        float32 scalar, the mean over all elements.
    """
    logits = _f32(logits)
    targets = _f32(targets)
    if (
        targets.shape.rank is not None
        and logits.shape.rank is not None
        and targets.shape.rank == logits.shape.rank - 1
        and targets.shape.rank > 0
        and logits.shape[-1] == 1
    ):
        targets = targets[..., None]
    targets = tf.broadcast_to(targets, tf.shape(logits))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits))


def lsgan_loss(scores, target) -> tf.Tensor:
    """Least-squares GAN loss ``mean((scores - target)²)`` (spec 000, 2.2, the CycleGAN).

    The CycleGAN's Keras ``'mse'`` of the PatchGAN map against constant patch targets: 1.0 for
    real (and for the generator's adversarial term), 0.0 for fake. The 0.5 "slowing" factor of
    the discriminator (L906-910) is applied by the caller.

    Args:
        scores: raw discriminator outputs, any shape (e.g. ``[B, 16, 16, 1]``).
        target: the constant target (1.0 or 0.0), or anything broadcastable to ``scores``.

    Returns:
        float32 scalar, the mean over all elements.
    """
    return tf.reduce_mean(tf.square(_f32(scores) - _f32(target)))


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
