"""The 10-mode ring of the toy mode-collapse experiment (SCoGAN thesis Fig 2.9, L370-372).

The thesis says only "5100 two dimensional data points arranged in a circular shape" with 10
modes (L372, L392). The rest comes from the authors' code (``createToyDataRing`` in their
``Data.py``, the 10-mode version): 10 Gaussian modes with centres on a circle of radius 3 at
angles ``2*pi*i/10`` (i = 0..9, the first on the positive x axis), isotropic standard deviation
0.05, and each point's mode drawn uniformly at random (``np.random.choice`` with p = 1/10), so
the modes hold about 510 points each, not exactly 510. The code's default ``Ntrain`` is 5,120;
with batches of 100 only 51 full batches (5,100 points) were used per epoch, which is the
thesis's number, and the number used here.

:func:`ring_points` makes the same two NumPy calls in the same order as the authors' function
(``choice`` then ``normal``) on a ``RandomState(seed)``, so it is a seeded version of their
generator. :func:`points_stream` is the resumable batch stream the trainer needs (one
permutation of the points per epoch, a pure function of ``(seed, position)``, like
:func:`gan_repro.data.pipeline.image_stream`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gan_repro.data.pipeline import shuffled_indices
from gan_repro.errors import BadOptionError

__all__ = [
    "RING_MODES",
    "RING_POINTS",
    "RING_RADIUS",
    "RING_STD",
    "points_stream",
    "ring_centres",
    "ring_points",
]

RING_MODES = 10  # "only 6 out of 10 modes" (L392)
RING_POINTS = 5100  # L372
RING_RADIUS = 3.0  # authors' createToyDataRing(radius=3)
RING_STD = 0.05  # authors' createToyDataRing(std=0.05)


def ring_centres(modes: int = RING_MODES, radius: float = RING_RADIUS) -> np.ndarray:
    """Mode centres, float32 [modes, 2]: ``radius * (cos, sin)(2*pi*i/modes)``, i = 0..modes-1."""
    theta = 2.0 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)).astype(np.float32)


def ring_points(
    n: int = RING_POINTS,
    modes: int = RING_MODES,
    radius: float = RING_RADIUS,
    std: float = RING_STD,
    seed: int = 2020,
    return_modes: bool = False,
):
    """The toy ring data set, float32 [n, 2] (and the int64 mode of each point if asked).

    Each point picks a mode uniformly at random, then adds N(0, std^2 I) noise to its centre,
    as the authors' ``createToyDataRing`` does (see the module doc for the sources).
    """
    if n < 1 or modes < 1 or std < 0:
        raise BadOptionError(f"ring needs n >= 1, modes >= 1, std >= 0 (got {n}, {modes}, {std})")
    rng = np.random.RandomState(seed)
    centres = ring_centres(modes, radius).astype(np.float64)
    which = rng.choice(modes, n, p=[1.0 / modes] * modes)
    points = rng.normal(loc=centres[which], scale=std).astype(np.float32)
    return (points, which.astype(np.int64)) if return_modes else points


def points_stream(
    points: np.ndarray, *, batch_size: int, seed: int, start: int = 0, group: int = 1
) -> tf.data.Dataset:
    """Infinite, resumable batches of ``points``, float32 [batch_size, group, D].

    ``out[j, k]`` is example j of the k-th of ``group`` consecutive batches (one real batch per
    discriminator iteration of a step). Every epoch visits every point once, in the stateless
    permutation of :func:`gan_repro.data.pipeline.shuffled_indices`. ``start`` counts examples
    consumed, so after ``s`` elements the stream continues at ``start + s*batch_size*group``.
    """
    points = np.asarray(points, np.float32)
    if points.ndim != 2 or len(points) < 1:
        raise BadOptionError(f"points_stream needs points [N, D]; got {list(points.shape)}")
    if int(batch_size) < 1 or int(group) < 1:
        raise BadOptionError(f"batch_size={batch_size} and group={group} must both be >= 1")
    batch_size, group = int(batch_size), int(group)
    dim = points.shape[1]
    with tf.device("/cpu:0"):
        table = tf.constant(points)

    def take(index):
        x = tf.reshape(tf.gather(table, index), [group, batch_size, dim])
        return tf.transpose(x, [1, 0, 2])

    ds = shuffled_indices(len(points), seed, start).batch(batch_size * group, drop_remainder=True)
    return ds.map(take, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
