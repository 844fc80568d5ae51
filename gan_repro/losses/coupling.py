"""Soft-coupling regularisers of SCoGAN (spec 001, sections 2.3-2.5 and 2.7).

Feature Regulariser (FR, Eq 4.1), Semantic Loss (SL, Eq 4.2) and latent Cycle Consistency
(CC, Eq 4.3). Each returns a float32 scalar (plain means over the local batch, usable inside
``tf.function`` and ``tf.distribute`` replica contexts). Where the printed equation and the
authors' code (Listings 6.10, 6.15, 6.16) differ, the default follows the code, which is what
produced the published numbers, and the printed form is available as an option.
The trainer multiplies each by its weight (α_FR, α_SL, α_CC) and adds the same value to both
generator losses (section 2.7).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import tensorflow as tf

from gan_repro.errors import BadOptionError, check_choice

__all__ = ["feature_regulariser", "latent_cycle_loss", "semantic_loss"]


def _f32(x) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def feature_regulariser(features1: Sequence, features2: Sequence, k: int) -> tf.Tensor:
    """Feature Regulariser ``Σ_{i<k} mean((f1_i - f2_i)²)`` (Eq 4.1, L861-867; Listing 6.10).

    Follows the code (Listing 6.10, L1471-1476): a **sum of per-layer means, no 1/K** (the
    printed Eq 4.1 has ``1/K Σ_k``). Each mean runs over batch, H, W and C of that layer. The
    features are the first ``k`` entries of the generators' output lists, which in the authors'
    32x32 generator are the 8x8x512 and 16x16x256 maps and then the output image (spec 10.3), so
    K = 3 (L871, the code's run configs) also compares the images; K = 2 was tried and was worse
    (L896).

    Args:
        features1: list of G1's intermediate tensors (same z as G2).
        features2: list of G2's intermediate tensors, matching shapes layer by layer.
        k: number of leading layers compared, ``1 <= k <= len(features)``.

    Returns:
        float32 scalar.

    Raises:
        BadOptionError: ``k`` is < 1 or larger than the number of feature maps given.
    """
    available = min(len(features1), len(features2))
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= available:
        raise BadOptionError(
            f"feature_regulariser k={k!r} is not valid: the generators return {len(features1)} "
            f"and {len(features2)} feature maps; choose an integer k with 1 <= k <= {available}"
        )
    total = tf.constant(0.0, tf.float32)
    for f1, f2 in zip(features1[: int(k)], features2[: int(k)], strict=True):
        total += tf.reduce_mean(tf.math.squared_difference(_f32(f1), _f32(f2)))
    return total


def semantic_loss(probs1, probs2, halve: bool = False) -> tf.Tensor:
    """Semantic Loss ``mean((δ(G1(z)) - δ(G2(z)))²)`` (Eq 4.2, L929-936; Listing 6.15).

    Follows the code (Listing 6.15, L1586-1598): the mean over batch x classes of the squared
    difference of the frozen classifier's outputs (softmax, or sigmoid for CelebA), with **no
    /2**. ``halve=True`` gives the printed Eq 4.2's ``(...)²/2``.

    Args:
        probs1: classifier probabilities on G1(z), ``[B, n_classes]``.
        probs2: classifier probabilities on G2(z), same shape.
        halve: divide by 2 as in the printed equation.

    Returns:
        float32 scalar.
    """
    loss = tf.reduce_mean(tf.math.squared_difference(_f32(probs1), _f32(probs2)))
    return loss / 2.0 if halve else loss


def latent_cycle_loss(z_hat1, z_hat2, z, distance: str = "l1") -> tf.Tensor:
    """Latent cycle consistency ``d(F(G1(z)), z) + d(F(G2(z)), z)`` (Eq 4.3; Listing 6.16).

    ``distance="l1"`` (default) follows the code (Listing 6.16, L1604-1623):
    ``mean|ẑ1 - z| + mean|ẑ2 - z|``, each mean over batch x latent dims; this same value is the
    encoder's loss (L1604). ``distance="l2"`` gives the printed Eq 4.3: the mean over the batch
    of ``||ẑ1 - z||²₂ + ||ẑ2 - z||²₂`` (squared norms summed over the latent dims).

    Args:
        z_hat1: encoder output on G1(z), ``[B, latent_dim]``.
        z_hat2: encoder output on G2(z), ``[B, latent_dim]``.
        z: the shared noise, ``[B, latent_dim]``.
        distance: "l1" (code) or "l2" (thesis equation).

    Returns:
        float32 scalar.

    Raises:
        BadOptionError: ``distance`` is not "l1" or "l2".
    """
    check_choice("distance", distance, ("l1", "l2"))
    z = _f32(z)
    d1 = _f32(z_hat1) - z
    d2 = _f32(z_hat2) - z
    if distance == "l1":
        return tf.reduce_mean(tf.abs(d1)) + tf.reduce_mean(tf.abs(d2))
    axes = tf.range(1, tf.rank(d1))
    sq = tf.reduce_sum(tf.square(d1), axis=axes) + tf.reduce_sum(tf.square(d2), axis=axes)
    return tf.reduce_mean(sq)
