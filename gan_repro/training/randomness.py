"""Per-step random draws as a pure function of ``(seed, step)``.

Families put their noise (z, gradient-penalty mixing weights, ...) in the input stream instead
of drawing it from a stateful generator inside the step. Then a resumed run draws exactly what
an uninterrupted one would, and a multi-replica strategy splits the very same global draw across
its devices, so N devices compute what one device does.
"""

from __future__ import annotations

import tensorflow as tf


def uniform_stream(
    seed: int,
    start: int,
    shapes: dict[str, tuple[int, ...]],
    low: dict[str, float] | None = None,
    normal: tuple[str, ...] = (),
) -> tf.data.Dataset:
    """Infinite stream, element ``s`` (from ``start``) = ``{name: U[low, 1) of shape}`` drawn with
    the stateless seed ``(seed + i, s)`` for the i-th name. ``low`` defaults to 0 per name.
    Names listed in ``normal`` are drawn from N(0, 1) instead (Keras-GAN's ``np.random.normal``
    noise of the face-aging models)."""
    low = low or {}
    names = sorted(shapes)

    def one(i, name, step):
        seed_pair = tf.stack([tf.constant(seed + i, tf.int64), step])
        if name in normal:
            return tf.random.stateless_normal(shapes[name], seed=seed_pair)
        return tf.random.stateless_uniform(
            shapes[name], seed=seed_pair, minval=low.get(name, 0.0), maxval=1.0
        )

    def draw(step):
        return {name: one(i, name, step) for i, name in enumerate(names)}

    return tf.data.Dataset.range(start, 2**62).map(draw, num_parallel_calls=tf.data.AUTOTUNE)


def fixed_uniform(seed: int, shape: tuple[int, ...], low: float = -1.0) -> tf.Tensor:
    """A fixed draw (e.g. the sample-grid noise), independent of the training stream."""
    return tf.random.stateless_uniform(shape, seed=[seed, -1], minval=low, maxval=1.0)


def fixed_normal(seed: int, shape: tuple[int, ...]) -> tf.Tensor:
    """A fixed N(0, 1) draw (sample-grid noise), independent of the training stream."""
    return tf.random.stateless_normal(shape, seed=[seed, -1])
