"""Tests of the face-aging losses (spec 000, section 2): SSIM, the proposed loss, BCE, LSGAN."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage.metrics import structural_similarity

from gan_repro.errors import BadOptionError
from gan_repro.losses import (
    D2_CHOICES,
    SSIM_FLOOR,
    bce_with_logits,
    lipschitz_coefficients,
    lipschitz_ssim_loss,
    lipschitz_term,
    lsgan_loss,
    pair_distance,
    partner_indices,
    proposed_loss,
    ssim,
)


def scalar(t):
    assert t.dtype == tf.float32
    assert t.shape == ()
    return float(t.numpy())


def skimage_ssim(x, y, data_range=2.0):
    """Reference: skimage per image; grey images as 2-D arrays, colour with channel_axis=-1."""
    out = []
    for a, b in zip(np.asarray(x, np.float64), np.asarray(y, np.float64), strict=True):
        if a.shape[-1] == 1:
            out.append(structural_similarity(a[..., 0], b[..., 0], data_range=data_range))
        else:
            out.append(
                structural_similarity(a, b, data_range=data_range, win_size=7, channel_axis=-1)
            )
    return np.array(out)


def structured(rng, shape, noise=0.1):
    """Real-ish images: a random diagonal ramp plus a blob plus noise, clipped to [-1, 1]."""
    b, h, w, c = shape
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    images = []
    for _ in range(b):
        a, bb = rng.uniform(-1, 1, 2)
        cy, cx = rng.uniform(-0.5, 0.5, 2)
        base = 0.5 * (a * xx + bb * yy) + 0.6 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 0.1)
        images.append(np.repeat(base[..., None], c, axis=-1))
    images = np.stack(images) + noise * rng.normal(size=shape)
    return np.clip(images, -1, 1).astype(np.float32)


# ---------------------------------------------------------------- ssim == skimage


@pytest.mark.parametrize("shape", [(3, 100, 100, 1), (4, 32, 32, 3)])
def test_ssim_matches_skimage(shape):
    rng = np.random.default_rng(0)
    noise_a = rng.uniform(-1, 1, shape).astype(np.float32)
    noise_b = rng.uniform(-1, 1, shape).astype(np.float32)
    real = structured(rng, shape)
    near = np.clip(real + 0.2 * rng.normal(size=shape), -1, 1).astype(np.float32)
    for x, y in [(noise_a, noise_b), (real, near), (real, noise_a), (near, real)]:
        got = ssim(x, y)
        assert got.dtype == tf.float32 and got.shape == (shape[0],)
        np.testing.assert_allclose(got.numpy(), skimage_ssim(x, y), atol=1e-5)


def test_ssim_identical_images_is_one():
    rng = np.random.default_rng(1)
    x = structured(rng, (2, 100, 100, 1))
    np.testing.assert_allclose(ssim(x, x).numpy(), [1.0, 1.0], atol=1e-6)
    c = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(ssim(c, c).numpy(), [1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_ssim_other_data_range(data_range):
    rng = np.random.default_rng(2)
    x = structured(rng, (2, 40, 40, 3))
    y = np.clip(x + 0.3 * rng.normal(size=x.shape), -1, 1).astype(np.float32)
    got = ssim(x, y, data_range=data_range).numpy()
    np.testing.assert_allclose(got, skimage_ssim(x, y, data_range), atol=1e-5)
    # A larger L gives larger constants, hence an SSIM closer to 1 than with L = 2.
    if data_range > 2:
        assert np.all(got > ssim(x, y).numpy())


def test_ssim_under_xla_and_float16_and_gradient():
    rng = np.random.default_rng(3)
    x = structured(rng, (2, 16, 16, 3))
    y = rng.uniform(-1, 1, x.shape).astype(np.float32)
    expected = skimage_ssim(x, y)
    jitted = tf.function(lambda a, b: ssim(a, b), jit_compile=True)
    np.testing.assert_allclose(jitted(x, y).numpy(), expected, atol=1e-5)
    # float16 inputs (mixed precision) give a float32 result.
    half = ssim(tf.cast(x, tf.float16), tf.cast(y, tf.float16))
    assert half.dtype == tf.float32
    np.testing.assert_allclose(half.numpy(), expected, atol=2e-3)
    # Differentiable: finite, non-zero gradient w.r.t. the images.
    yv = tf.Variable(y)
    with tf.GradientTape() as tape:
        s = tf.reduce_sum(ssim(x, yv))
    grad = tape.gradient(s, yv).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0


def test_ssim_refuses_bad_inputs():
    x = np.zeros((2, 8, 8, 1), np.float32)
    with pytest.raises(BadOptionError, match="rank 4"):
        ssim(x[0], x[0])
    with pytest.raises(BadOptionError, match="same shape"):
        ssim(x, np.zeros((2, 8, 9, 1), np.float32))
    with pytest.raises(BadOptionError, match="smaller than win_size"):
        ssim(x[:, :6], x[:, :6])
    with pytest.raises(BadOptionError, match="odd"):
        ssim(x, x, win_size=6)
    with pytest.raises(BadOptionError, match="data_range"):
        ssim(x, x, data_range=0.0)
    # A smaller odd window is accepted (and matches skimage with that window).
    rng = np.random.default_rng(4)
    a = rng.uniform(-1, 1, (1, 8, 8, 1)).astype(np.float32)
    b = rng.uniform(-1, 1, (1, 8, 8, 1)).astype(np.float32)
    ref = structural_similarity(
        a[0, ..., 0].astype(np.float64), b[0, ..., 0].astype(np.float64), data_range=2, win_size=5
    )
    np.testing.assert_allclose(ssim(a, b, win_size=5).numpy(), [ref], atol=1e-5)


# ---------------------------------------------------------------- proposed loss, by hand


def test_lipschitz_coefficients_by_hand():
    f_x = tf.constant([[0.9], [0.2]])  # [B, 1] likelihoods, flattened to [B]
    f_y = tf.constant([0.7, 0.3])
    f_z = tf.constant([0.1, 0.6])
    ssim_xy = tf.constant([0.5, 0.25])
    ssim_xz = tf.constant([0.2, 0.8])
    d_xy = pair_distance(ssim_xy)  # "ssim": unchanged (above the floor)
    d_xz = pair_distance(ssim_xz)
    np.testing.assert_allclose(d_xy.numpy(), [0.5, 0.25])
    p, n = lipschitz_coefficients(f_x, f_y, f_z, d_xy, d_xz)
    # P = |0.9 - 0.7| / 0.5 = 0.4 ; |0.2 - 0.3| / 0.25 = 0.4
    # N = |0.9 - 0.1| / 0.2 = 4.0 ; |0.2 - 0.6| / 0.8 = 0.5
    assert p.shape == (2,) and n.shape == (2,)
    np.testing.assert_allclose(p.numpy(), [0.4, 0.4], rtol=1e-6)
    np.testing.assert_allclose(n.numpy(), [4.0, 0.5], rtol=1e-6)
    # LC = mean|P| - mean|N| = 0.4 - 2.25 = -1.85
    lc = lipschitz_term(p, n)
    assert scalar(lc) == pytest.approx(-1.85, abs=1e-6)
    # L = alpha BC + beta LC with BC = 0.7: (1, 1) -> 0.7 - 1.85 = -1.15 ; (1, 5) -> 0.7 - 9.25
    assert scalar(proposed_loss(0.7, lc)) == pytest.approx(-1.15, abs=1e-6)
    assert scalar(proposed_loss(0.7, lc, alpha=1.0, beta=5.0)) == pytest.approx(-8.55, abs=1e-5)
    assert scalar(proposed_loss(0.7, lc, alpha=2.0, beta=0.0)) == pytest.approx(1.4, abs=1e-6)

    # DSSIM variant: d = (1 - SSIM) / 2 -> 0.25, 0.375 ; P = 0.2 / 0.25 = 0.8, 0.1 / 0.375
    d_xy = pair_distance(ssim_xy, d2="dssim")
    np.testing.assert_allclose(d_xy.numpy(), [0.25, 0.375], rtol=1e-6)
    p, _ = lipschitz_coefficients(f_x, f_y, f_z, d_xy, d_xz)
    np.testing.assert_allclose(p.numpy(), [0.8, 0.1 / 0.375], rtol=1e-6)


def test_floor_guard_keeps_ratio_finite():
    assert SSIM_FLOOR == 0.01 and D2_CHOICES == ("ssim", "dssim")
    s = tf.constant([0.0, -0.3, 0.005, 0.02])
    np.testing.assert_allclose(pair_distance(s).numpy(), [0.01, 0.01, 0.01, 0.02], rtol=1e-6)
    f_x = tf.constant([0.9, 0.9, 0.9, 0.9])
    f_y = tf.constant([0.7, 0.7, 0.7, 0.7])
    p, n = lipschitz_coefficients(f_x, f_y, f_y, pair_distance(s), pair_distance(s))
    # |0.9 - 0.7| / 0.01 = 20 ; / 0.02 = 10
    np.testing.assert_allclose(p.numpy(), [20.0, 20.0, 20.0, 10.0], rtol=1e-5)
    assert np.all(np.isfinite(n.numpy()))
    # DSSIM: identical images (SSIM 1) hit the floor, SSIM -0.5 -> 0.75, SSIM 0.5 -> 0.25.
    d = pair_distance(tf.constant([1.0, -0.5, 0.5]), d2="dssim").numpy()
    np.testing.assert_allclose(d, [0.01, 0.75, 0.25], rtol=1e-6)
    # Custom floor.
    np.testing.assert_allclose(pair_distance(tf.constant([0.0]), floor=0.1).numpy(), [0.1])


def test_pair_distance_refuses_unknown_choice():
    with pytest.raises(BadOptionError, match="dssim"):
        pair_distance(tf.constant([0.5]), d2="1-ssim")
    with pytest.raises(BadOptionError, match="floor"):
        pair_distance(tf.constant([0.5]), floor=0.0)


def test_lipschitz_ssim_loss_composes_skimage_ssim():
    rng = np.random.default_rng(5)
    x = structured(rng, (3, 16, 16, 1))
    y = np.clip(x + 0.05 * rng.normal(size=x.shape), -1, 1).astype(np.float32)
    z = rng.uniform(-1, 1, x.shape).astype(np.float32)
    f_x = np.array([0.8, 0.6, 0.3], np.float32)
    f_y = np.array([0.7, 0.65, 0.1], np.float32)
    f_z = np.array([0.2, 0.1, 0.9], np.float32)
    lc, logs = lipschitz_ssim_loss(f_x, f_y, f_z, x, y, z)
    # SSIM of the 8-bit pictures: the [-1, 1] images shifted to [0, 2] (choice b) ...
    s_xy = skimage_ssim(x + 1, y + 1)
    s_xz = skimage_ssim(x + 1, z + 1)
    # ... which is skimage's SSIM of the uint8 images with data_range 255
    as_uint8 = lambda a: (np.asarray(a, np.float64) + 1) * 127.5  # noqa: E731
    np.testing.assert_allclose(
        skimage_ssim(as_uint8(x), as_uint8(z), data_range=255.0), s_xz, atol=1e-7
    )
    p = np.abs(f_x - f_y) / np.maximum(s_xy, SSIM_FLOOR)
    n = np.abs(f_x - f_z) / np.maximum(s_xz, SSIM_FLOOR)
    assert set(logs) == {"lc", "p_mean", "n_mean", "ssim_pos", "ssim_neg"}
    assert scalar(lc) == pytest.approx(p.mean() - n.mean(), rel=1e-4)
    assert scalar(logs["lc"]) == scalar(lc)
    assert scalar(logs["p_mean"]) == pytest.approx(p.mean(), rel=1e-4)
    assert scalar(logs["n_mean"]) == pytest.approx(n.mean(), rel=1e-4)
    assert scalar(logs["ssim_pos"]) == pytest.approx(s_xy.mean(), abs=1e-5)
    assert scalar(logs["ssim_neg"]) == pytest.approx(s_xz.mean(), abs=1e-5)

    # Gradients flow through the likelihoods only (the SSIM part is a constant).
    fv, xv = tf.Variable(f_x), tf.Variable(x)
    with tf.GradientTape(persistent=True) as tape:
        lc, _ = lipschitz_ssim_loss(fv, f_y, f_z, xv, y, z, d2="dssim")
    assert tape.gradient(lc, xv) is None
    assert np.all(np.isfinite(tape.gradient(lc, fv).numpy()))


# ---------------------------------------------------------------- random partners


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_partner_indices(n):
    grid = np.concatenate([np.linspace(0.0, 1.0, 200, endpoint=False), [np.nextafter(1.0, 0.0)]])
    grid = grid.astype(np.float32)
    seen_pos = {i: set() for i in range(n)}
    seen_neg = set()
    for start in range(0, len(grid) - n + 1, 5):
        u = tf.constant(grid[start : start + n])
        pos = partner_indices(u, n).numpy()
        neg = partner_indices(u, n, exclude_self=False).numpy()
        assert pos.dtype == np.int32 and pos.shape == (n,)
        assert np.all((pos >= 0) & (pos < n)) and np.all((neg >= 0) & (neg < n))
        for i in range(n):
            if n > 1:
                assert pos[i] != i
            seen_pos[i].add(int(pos[i]))
        seen_neg.update(int(j) for j in neg)
    # Every other index is reachable as a positive, every index as a negative.
    for i in range(n):
        assert seen_pos[i] == ({j for j in range(n) if j != i} if n > 1 else {0})
    assert seen_neg == set(range(n))


def test_partner_indices_with_tensor_batch_size_in_tf_function():
    fn = tf.function(lambda u, n: partner_indices(u, n))
    got = fn(tf.constant([0.0, 0.99, 0.5, 0.25]), tf.constant(4)).numpy()
    # j = (i + 1 + floor(u * 3)) mod 4: (0+1+0)%4=1, (1+1+2)%4=0, (2+1+1)%4=0, (3+1+0)%4=0
    np.testing.assert_array_equal(got, [1, 0, 0, 0])


# ---------------------------------------------------------------- BCE and LSGAN


def test_bce_with_logits_matches_keras():
    rng = np.random.default_rng(6)
    logits = rng.uniform(-7.5, 7.5, (16, 1)).astype(np.float32)
    targets = rng.integers(0, 2, (16, 1)).astype(np.float32)
    keras_bce = keras.losses.binary_crossentropy(targets, tf.sigmoid(logits))
    got = bce_with_logits(targets, logits)
    assert scalar(got) == pytest.approx(float(np.mean(keras_bce)), rel=1e-5)
    # Soft (and flipped) labels, against the formula written in numpy.
    soft = rng.uniform(0.0, 0.1, (16, 1)).astype(np.float32)
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    hand = -np.mean(soft * np.log(p) + (1 - soft) * np.log(1 - p))
    assert scalar(bce_with_logits(soft, logits)) == pytest.approx(hand, rel=1e-5)
    keras_soft = keras.losses.binary_crossentropy(soft, tf.sigmoid(logits))
    assert scalar(bce_with_logits(soft, logits)) == pytest.approx(
        float(np.mean(keras_soft)), rel=1e-5
    )
    # Scalar targets broadcast, [B] targets against [B, 1] logits too.
    assert scalar(bce_with_logits(1.0, logits)) == pytest.approx(
        scalar(bce_with_logits(np.ones((16, 1)), logits)), rel=1e-6
    )
    assert scalar(bce_with_logits(targets[:, 0], logits)) == pytest.approx(scalar(got), rel=1e-6)


def test_bce_with_logits_large_logits_and_hand_value():
    logits = tf.constant([[1000.0], [-1000.0]])
    assert scalar(bce_with_logits(tf.constant([[1.0], [0.0]]), logits)) == pytest.approx(0.0)
    # Wrong labels: -log σ(-1000) = 1000 each.
    assert scalar(bce_with_logits(tf.constant([[0.0], [1.0]]), logits)) == pytest.approx(1000.0)
    # logit 0 -> p = 1/2 -> log 2 whatever the target.
    assert scalar(bce_with_logits(0.3, tf.zeros([4, 1]))) == pytest.approx(math.log(2), rel=1e-6)
    assert bce_with_logits(1.0, tf.constant([1.0], tf.float16)).dtype == tf.float32


def test_lsgan_loss_by_hand():
    scores = tf.constant([[[[0.5]], [[1.5]]], [[[-1.0]], [[1.0]]]])  # [2, 2, 1, 1]
    # target 1: ((-0.5)² + 0.5² + (-2)² + 0²) / 4 = (0.25 + 0.25 + 4 + 0) / 4 = 1.125
    assert scalar(lsgan_loss(scores, 1.0)) == pytest.approx(1.125)
    # target 0: (0.25 + 2.25 + 1 + 1) / 4 = 1.125
    assert scalar(lsgan_loss(scores, 0.0)) == pytest.approx(1.125)
    assert scalar(lsgan_loss(tf.constant([2.0, 2.0]), 1.0)) == pytest.approx(1.0)


# ---------------------------------------------------------------- behaviour


def test_lc_can_be_minimised_by_a_tiny_discriminator():
    """SGD on LC alone lowers it: same-kind likelihoods get close, cross-kind far apart."""
    rng = np.random.default_rng(7)
    n = 8
    real = structured(rng, (n, 8, 8, 1), noise=0.05)
    fake = rng.uniform(-1, 1, (n, 8, 8, 1)).astype(np.float32)
    images = np.concatenate([real, fake])  # anchors: every image, real then fake
    u = rng.uniform(0, 1, (2, 2 * n)).astype(np.float32)
    pos = np.concatenate(
        [partner_indices(u[0, :n], n).numpy(), n + partner_indices(u[0, n:], n).numpy()]
    )
    neg = np.concatenate(
        [
            n + partner_indices(u[1, :n], n, exclude_self=False).numpy(),
            partner_indices(u[1, n:], n, exclude_self=False).numpy(),
        ]
    )
    dense = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(0, 0.05, 0))
    dense.build((None, 64))
    flat = tf.reshape(images, [2 * n, 64])

    def lc_value():
        f = tf.sigmoid(dense(flat))[:, 0]
        lc, _ = lipschitz_ssim_loss(
            f, tf.gather(f, pos), tf.gather(f, neg), images, images[pos], images[neg]
        )
        return lc

    optimizer = keras.optimizers.SGD(learning_rate=0.01)
    start = float(lc_value())
    for _ in range(20):
        with tf.GradientTape() as tape:
            lc = lc_value()
        grads = tape.gradient(lc, dense.trainable_variables)
        optimizer.apply_gradients(zip(grads, dense.trainable_variables, strict=True))
    end = float(lc_value())
    assert np.isfinite(end)
    assert end < start - 1.0, (start, end)
