"""The face-aging thesis's "proposed loss function" for the CGAN discriminator (spec 000, 2.3).

Thesis section 4.6 (L986-1050): the discriminator loss ``L = alpha BC + beta LC`` (L1044-1046),
where BC is the binary cross-entropy and LC the "Lipschitz Coefficients" term

    P = d1(f(x), f(y)) / d2(x, y),    N = d1(f(x), f(z)) / d2(x, z)    (L994-996)
    LC = |P| - |N|                                                     (L1026-1028)

* ``f`` is the discriminator's likelihood that an image is real, i.e. the sigmoid probability,
  not the 0/1 label (L994, L1042).
* ``x`` is the anchor, each image of the batch being trained; ``y`` a positive (same kind,
  real or fake, as ``x``, Eq 4.1) and ``z`` a negative (the other kind, Eq 4.2), both "a random
  y and z among the available positives and negatives respectively in the current batch"
  (L1030). :func:`partner_indices` maps the caller's uniforms to those random partners.
* ``d1`` is the L1 norm of the (scalar) likelihoods, ``|f(x) - f(y)|`` (L1008).
* ``d2`` is the structural similarity SSIM itself, computed like skimage (L1008-1022), see
  :mod:`gan_repro.losses.ssim`. Literally a similarity, not a distance (spec 8.15a).

Choices the thesis leaves open (spec 8.15), made here:

* a) ``d2 = SSIM`` literally (``d2="ssim"``, the default). SSIM can be about 0 or negative
  (unrelated images), where the ratio explodes or changes sign; the thesis is silent. We read
  ``SSIM <= SSIM_FLOOR`` as "no structural similarity" and clamp it to ``SSIM_FLOOR`` (0.01),
  so the ratio stays finite and positive (at most 100 times the likelihood gap).
  ``d2="dssim"`` offers a proper dissimilarity ``(1 - SSIM) / 2`` (same floor) as an option.
* b) SSIM of the images as 8-bit pictures: the formula's ``L = 2^b - 1`` (L1016) is the range
  of non-negative pixel values, and SSIM's luminance term assumes pixels >= 0 (on signed
  pixels two mid-grey patches of means +0.1 and -0.1 score about -1). So the [-1, 1] images
  are shifted by ``pixel_offset = 1`` to [0, 2] and compared with ``data_range = 2``, which is
  exactly skimage's SSIM of the uint8 images with ``data_range=255`` (tested).
* d) one random positive and one random negative per anchor (a vector of ``P_i``, ``N_i``),
  and ``LC = mean_i |P_i| - mean_i |N_i|``: the thesis's per-pair ``|P| - |N|`` averaged over
  the batch the way Keras averages a per-sample loss.
* e) LC enters the discriminator loss only; the generator keeps its BCE (L990, L1232).

The SSIM denominators depend on the images only; the thesis computes them outside the loss
(with skimage, via Keras backend variables, L1036-1038), so no gradient flows through them.
:func:`lipschitz_ssim_loss` reproduces that with ``tf.stop_gradient``. Every function casts its
inputs to float32, so the results are float32 under mixed precision.
"""

from __future__ import annotations

import tensorflow as tf

from gan_repro.errors import BadOptionError, check_choice
from gan_repro.losses.ssim import ssim

__all__ = [
    "D2_CHOICES",
    "SSIM_FLOOR",
    "lipschitz_coefficients",
    "lipschitz_ssim_loss",
    "lipschitz_term",
    "pair_distance",
    "partner_indices",
    "proposed_loss",
]

#: Names of the denominators d2: the thesis's SSIM itself, or the dissimilarity (1 - SSIM) / 2.
D2_CHOICES = ("ssim", "dssim")

#: Lower bound of d2 (spec 8.15a): SSIM (or DSSIM) at or below it counts as "no structural
#: similarity" and is clamped to it, so P and N stay finite and positive.
SSIM_FLOOR = 0.01


def _f32(x) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def _flat(x) -> tf.Tensor:
    """``[B]`` or ``[B, 1]`` (any shape with one value per sample) -> float32 ``[B]``."""
    return tf.reshape(_f32(x), [-1])


def pair_distance(ssim_values, d2: str = "ssim", floor: float = SSIM_FLOOR) -> tf.Tensor:
    """The denominator d2 of P and N from SSIM values (thesis L1008; spec 2.3 and 8.15a).

    * ``"ssim"`` (the thesis, literally): ``max(SSIM, floor)``. SSIM <= ``floor`` (about 0 or
      negative: no structural similarity) is clamped to ``floor``, so the ratio is finite and
      positive; the thesis does not say how it handled this.
    * ``"dssim"`` (an option, a proper dissimilarity): ``max((1 - SSIM) / 2, floor)``, in
      ``[floor, 1]``; identical images give ``floor`` instead of a division by zero.

    Args:
        ssim_values: SSIM values, any shape (usually ``[B]`` from :func:`ssim`).
        d2: one of ``D2_CHOICES``.
        floor: positive lower bound, ``SSIM_FLOOR`` by default.

    Returns:
        float32 tensor of the shape of ``ssim_values``.

    Raises:
        BadOptionError: ``d2`` is not in ``D2_CHOICES`` or ``floor`` is not positive.
    """
    check_choice("d2", d2, D2_CHOICES)
    if isinstance(floor, (int, float)) and not floor > 0:
        raise BadOptionError(f"floor={floor!r} must be > 0 (it guards a division); e.g. 0.01")
    s = _f32(ssim_values)
    value = s if d2 == "ssim" else (1.0 - s) / 2.0
    return tf.maximum(value, _f32(floor))


def lipschitz_coefficients(f_x, f_y, f_z, d_xy, d_xz) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-anchor coefficients ``P = |f_x - f_y| / d_xy`` and ``N = |f_x - f_z| / d_xz``.

    Thesis L994-996 with ``d1`` the L1 norm of the scalar likelihoods (L1008, L1042).

    Args:
        f_x: likelihoods (sigmoid probabilities) of the anchors, ``[B]`` or ``[B, 1]``.
        f_y: likelihoods of each anchor's positive, same size.
        f_z: likelihoods of each anchor's negative, same size.
        d_xy: denominators ``d2(x, y)`` from :func:`pair_distance`, ``[B]`` (or ``[B, 1]``).
        d_xz: denominators ``d2(x, z)``, same size.

    Returns:
        ``(P, N)``, two float32 tensors ``[B]``.
    """
    f_x = _flat(f_x)
    p = tf.abs(f_x - _flat(f_y)) / _flat(d_xy)
    n = tf.abs(f_x - _flat(f_z)) / _flat(d_xz)
    return p, n


def lipschitz_term(p, n) -> tf.Tensor:
    """``LC = mean(|P|) - mean(|N|)`` (thesis L1026-1028; reduction: spec 8.15d).

    The thesis's ``|P| - |N|`` per anchor, averaged over the batch as Keras averages a
    per-sample loss. Minimising it makes same-kind likelihoods close (small P, a contraction)
    and different-kind likelihoods far apart (large N, an expansion), L1024-1026.

    Returns:
        float32 scalar.
    """
    return tf.reduce_mean(tf.abs(_flat(p))) - tf.reduce_mean(tf.abs(_flat(n)))


def lipschitz_ssim_loss(
    f_x,
    f_y,
    f_z,
    x,
    y,
    z,
    *,
    d2: str = "ssim",
    floor: float = SSIM_FLOOR,
    data_range: float = 2.0,
    pixel_offset: float = 1.0,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """LC of a batch of triplets: SSIM denominators, coefficients and the term, with logs.

    The image part (the SSIMs) is wrapped in ``tf.stop_gradient``, as in the thesis where it
    is computed outside the Keras loss (L1036-1038); gradients flow through ``f_*`` only.

    Args:
        f_x, f_y, f_z: likelihoods (sigmoid probabilities) of anchors, positives and negatives,
            ``[B]`` or ``[B, 1]``.
        x, y, z: the corresponding images ``[B, H, W, C]`` (``y[i]``/``z[i]`` are the positive
            and negative of ``x[i]``, e.g. gathered with :func:`partner_indices`).
        d2: ``"ssim"`` (the thesis) or ``"dssim"``, see :func:`pair_distance`.
        floor: the guard of :func:`pair_distance`.
        data_range: SSIM ``data_range``, 2.0 for images in [-1, 1].
        pixel_offset: added to every image before SSIM (1.0: [-1, 1] -> [0, 2], i.e. the
            SSIM of the 8-bit pictures, choice b in the module docstring; 0.0: as given).

    Returns:
        ``(LC, logs)``: the float32 scalar LC and float32 scalars ``{"lc", "p_mean"
        (mean |P|), "n_mean" (mean |N|), "ssim_pos" (mean SSIM(x, y)), "ssim_neg"
        (mean SSIM(x, z))}``.
    """
    x, y, z = (tf.cast(t, tf.float32) + pixel_offset for t in (x, y, z))
    s_xy = tf.stop_gradient(ssim(x, y, data_range=data_range))
    s_xz = tf.stop_gradient(ssim(x, z, data_range=data_range))
    p, n = lipschitz_coefficients(
        f_x,
        f_y,
        f_z,
        pair_distance(s_xy, d2=d2, floor=floor),
        pair_distance(s_xz, d2=d2, floor=floor),
    )
    lc = lipschitz_term(p, n)
    logs = {
        "lc": lc,
        "p_mean": tf.reduce_mean(tf.abs(p)),
        "n_mean": tf.reduce_mean(tf.abs(n)),
        "ssim_pos": tf.reduce_mean(s_xy),
        "ssim_neg": tf.reduce_mean(s_xz),
    }
    return lc, logs


def proposed_loss(bce, lc, alpha: float = 1.0, beta: float = 1.0) -> tf.Tensor:
    """The thesis's discriminator loss ``L = alpha BC + beta LC`` (L1044-1046).

    The thesis's runs: ``alpha = 1, beta = 1`` and ``alpha = 1, beta = 5`` (L1048; spec 8.15f).

    Returns:
        float32 scalar.
    """
    return _f32(alpha) * _f32(bce) + _f32(beta) * _f32(lc)


def partner_indices(u, n, exclude_self: bool = True) -> tf.Tensor:
    """Random partner indices in ``[0, n)`` from uniforms, one per anchor (thesis L1030).

    The caller (a training step) draws ``u ~ U[0, 1)`` from its own random stream, so runs stay
    reproducible and resumable; this function only maps them to indices.

    * ``exclude_self=True`` (positives, drawn from the anchors' own batch of size ``n``; anchor
      ``i`` is ``u[i]``'s position): ``j = (i + 1 + floor(u (n - 1))) mod n``, uniform over the
      ``n - 1`` other images and never ``i``. For ``n == 1`` there is no other image and the
      result is 0 (the anchor itself; its P is then 0).
    * ``exclude_self=False`` (negatives, drawn from the other batch of size ``n``):
      ``j = floor(u n)``, clipped to ``n - 1``.

    Args:
        u: uniforms in [0, 1), shape ``[B]``.
        n: size of the batch the partners are drawn from (Python int or int scalar tensor).
        exclude_self: whether index ``i`` must not be chosen for anchor ``i``.

    Returns:
        int32 tensor ``[B]``.
    """
    u = tf.reshape(_f32(u), [-1])
    n = tf.cast(n, tf.int32)
    n_f = tf.cast(n, tf.float32)
    if exclude_self:
        offset = tf.cast(tf.floor(u * (n_f - 1.0)), tf.int32)
        offset = tf.clip_by_value(offset, 0, tf.maximum(n - 2, 0))
        anchors = tf.range(tf.shape(u)[0], dtype=tf.int32)
        # For n == 1 the modulo gives 0 for every anchor.
        return tf.math.floormod(anchors + 1 + offset, n)
    index = tf.cast(tf.floor(u * n_f), tf.int32)
    return tf.clip_by_value(index, 0, tf.maximum(n - 1, 0))
