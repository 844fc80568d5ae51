"""Gradient penalty of WGAN-GP (spec 001, section 2.2).

Eq 2.1 (L479-486) and the authors' Listing 6.9 (L1443-1465).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

__all__ = ["GP_WEIGHT", "gradient_penalty"]

#: λ of Eq 2.1: 10 in the thesis (L479, L886, L996) and the code (``--penalty_weight_d 10``).
GP_WEIGHT = 10.0

_SLOPE_EPS = 1e-12


def gradient_penalty(critic_fn: Callable[[tf.Tensor], tf.Tensor], real, fake, alpha) -> tf.Tensor:
    """WGAN-GP penalty ``mean((||∇_x̂ f(x̂)||_2 - 1)²)`` (Eq 2.1, L479-486; Listing 6.9).

    ``x̂ = real + alpha * (fake - real)`` exactly as Listing 6.9 writes it (Eq 2.1's
    ``α x + (1-α) y`` with α and 1-α swapped, which is the same distribution for α ~ U[0,1]).
    ``alpha`` is given by the caller, shape ``[B, 1, 1, 1]`` (broadcast against the images);
    the trainer draws it from U[0,1] so that all randomness stays under its control (seeds,
    exact resume).

    The per-sample slope is ``sqrt(sum over all non-batch axes of grad² + 1e-12)``. The
    authors add 1e-8 to every gradient element (``gradients += 1e-8``) before the square root
    to avoid the infinite derivative of ``sqrt`` at 0; we put a (smaller) epsilon inside the
    square root instead, which has the same purpose but does not shift the gradient itself.
    The difference to the exact norm is below 1e-6 for any realistic slope.

    The gradient w.r.t. ``x̂`` is taken with an inner ``tf.GradientTape`` that watches ``x̂``,
    so when this function is called inside the caller's tape, second-order gradients flow to
    the critic weights (what WGAN-GP needs). The gradient of ``sum(critic_fn(x̂))`` is used,
    i.e. each sample's score differentiated w.r.t. its own input; this assumes the critic has no
    cross-sample coupling (no BatchNorm in a WGAN-GP critic, L486). The caller multiplies the
    result by ``GP_WEIGHT`` and adds it to the critic loss (Listing 6.12, L1531-1533).

    Args:
        critic_fn: ``x -> scores`` of shape ``[B, 1]`` (any shape with leading batch works).
        real: real batch ``[B, H, W, C]`` (any rank >= 2 with a leading batch axis works).
        fake: generated batch of the same shape (cast to ``real``'s dtype).
        alpha: interpolation weights broadcastable to ``real``, usually ``[B, 1, 1, 1]``.

    Returns:
        float32 scalar, the mean over the local batch.

    Raises:
        ValueError: the critic's output does not depend on its input (no gradient).
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    alpha = tf.cast(alpha, real.dtype)
    interp = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interp)
        scores = tf.cast(critic_fn(interp), tf.float32)
        total = tf.reduce_sum(scores)
    grads = tape.gradient(total, interp)
    if grads is None:
        raise ValueError(
            "gradient_penalty: the critic's output does not depend on its input, so there is "
            "no gradient to penalise; pass a critic_fn that maps the interpolated images to "
            "scores."
        )
    grads = tf.cast(grads, tf.float32)
    axes = tf.range(1, tf.rank(grads))
    slopes = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + _SLOPE_EPS)
    return tf.reduce_mean(tf.square(slopes - 1.0))
