"""tf.data streams of real images that can be resumed at an exact position.

The thesis shuffles, repeats and batches each domain independently (spec 4, L1210). A shuffle
*buffer* cannot be resumed, so here the order is a pure function of the position instead:
example number ``i`` of the infinite stream is ``perm_e(i % n)`` with ``e = i // n`` the epoch and
``perm_e`` a stateless pseudorandom permutation of ``range(n)`` seeded by ``(seed, e)``.
Every epoch visits every example exactly once, and a stream started at ``start`` yields exactly
what an uninterrupted stream yields from that position on: a checkpoint only has to store the
number of examples consumed (``steps * batch_size * group``).

``perm_e(j) == tf.random.experimental.index_shuffle(j, seed=[seed, e], max_index=n - 1)``.
The public wrapper only works with one seed per call: in TF 2.21 it turns a ``[2]`` seed into
the raw op's ``[3]`` seed by padding *axis 0* with 498247692, which breaks batched ``[k, 2]``
seeds (it makes ``[k + 1, 2]``). A batch may straddle two epochs, so the raw op is called here
with the ``[k, 3]`` seeds the wrapper would have made one by one (tested to agree).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..errors import BadOptionError

_SEED_PAD = 498247692  # what index_shuffle's wrapper prepends to a [2] seed (TF 2.21)
_INDEX_CHUNK = 1024


def _permute(positions: tf.Tensor, n: int, seed: int) -> tf.Tensor:
    """Stream positions (int64 [k]) -> dataset indices (int64 [k]); see the module docstring."""
    epoch = positions // n
    seeds = tf.stack(
        [
            tf.fill(tf.shape(positions), tf.constant(_SEED_PAD, tf.int64)),
            tf.fill(tf.shape(positions), tf.constant(seed, tf.int64)),
            epoch,
        ],
        axis=-1,
    )
    return tf.raw_ops.RandomIndexShuffle(
        index=positions % n,
        seed=seeds,
        max_index=tf.fill(tf.shape(positions), tf.constant(n - 1, tf.int64)),
        rounds=4,
    )


def _check_counts(n: int, seed: int, start: int) -> None:
    if int(n) < 1:
        raise BadOptionError(f"cannot stream an empty dataset (n={n})")
    if int(start) < 0:
        raise BadOptionError(f"start={start} must be >= 0 (examples already consumed)")
    if not -(2**63) <= int(seed) < 2**63:
        raise BadOptionError(f"seed={seed} must fit in int64")


def shuffled_indices(n: int, seed: int, start: int = 0) -> tf.data.Dataset:
    """Infinite stream of int64 indices into ``range(n)``, one permutation per epoch.

    Element at absolute position ``i`` (``i = start, start + 1, ...``) is ``perm_{i // n}(i % n)``.
    """
    _check_counts(n, seed, start)
    n, seed, start = int(n), int(seed), int(start)

    def chunk(c):
        first = start + c * _INDEX_CHUNK
        return _permute(first + tf.range(_INDEX_CHUNK, dtype=tf.int64), n, seed)

    return tf.data.Dataset.counter(0, dtype=tf.int64).map(chunk).unbatch()


def image_stream(
    images: np.ndarray, *, batch_size: int, seed: int, start: int = 0, group: int = 1
) -> tf.data.Dataset:
    """Infinite, deterministic, resumable batches of float32 images in [-1, 1].

    ``images``: uint8 [N,H,W,C] (a grey [N,H,W] stack gets C=1), kept in host memory. Pixels are
    scaled with ``(x - 127.5) / 127.5`` (thesis L1235-1239).

    Yields [batch_size,H,W,C] when ``group == 1``. Otherwise [batch_size,group,H,W,C]: the
    ``group`` consecutive batches b_0..b_{group-1} of the stream stacked on axis 1,
    ``out[j, k] == b_k[j]``, for critic loops that take ``group`` real batches per step.

    ``start`` counts *examples* consumed, so after ``s`` yielded elements the position is
    ``s * batch_size * group``; ``image_stream(..., start=that)`` continues the same stream.
    """
    return labelled_image_stream(
        images, None, batch_size=batch_size, seed=seed, start=start, group=group
    )


def labelled_image_stream(
    images: np.ndarray,
    labels: np.ndarray | None,
    *,
    batch_size: int,
    seed: int,
    start: int = 0,
    group: int = 1,
) -> tf.data.Dataset:
    """:func:`image_stream` that also yields each image's label: elements ``(x, y)`` with
    y int64 [batch_size] (or [batch_size, group]) taken at the same positions as the images.
    ``labels=None`` yields the images alone (that is :func:`image_stream`)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.dtype != np.uint8:
        raise BadOptionError(
            f"image_stream needs uint8 images [N,H,W,C]; got {images.dtype}{list(images.shape)}"
        )
    if labels is not None and len(labels) != len(images):
        raise BadOptionError(f"{len(images)} images but {len(labels)} labels")
    if int(batch_size) < 1 or int(group) < 1:
        raise BadOptionError(f"batch_size={batch_size} and group={group} must both be >= 1")
    _check_counts(len(images), seed, start)
    n, seed, start = len(images), int(seed), int(start)
    batch_size, group = int(batch_size), int(group)
    per_step = batch_size * group
    height, width, channels = images.shape[1:]
    with tf.device("/cpu:0"):  # tf.data runs on the host; keep the tables there
        table = tf.constant(images)
        label_table = None if labels is None else tf.constant(np.asarray(labels, np.int64))

    def arrange(t, shape):
        if group == 1:
            return tf.ensure_shape(t, [batch_size, *shape])
        t = tf.reshape(t, [group, batch_size, *shape])
        return tf.transpose(t, [1, 0, *range(2, 2 + len(shape))])

    def step(s):
        positions = start + s * per_step + tf.range(per_step, dtype=tf.int64)
        index = _permute(positions, n, seed)
        x = (tf.cast(tf.gather(table, index), tf.float32) - 127.5) / 127.5
        x = arrange(x, [height, width, channels])
        if label_table is None:
            return x
        return x, arrange(tf.gather(label_table, index), [])

    ds = tf.data.Dataset.counter(0, dtype=tf.int64)
    ds = ds.map(step, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
