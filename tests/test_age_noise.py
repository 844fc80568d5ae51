"""Pixel noise, the median filter and the age classifier's noise augmentation (ours, beyond the
thesis): the tools that make the age-group accuracy of noisy CGAN faces mean what it claims."""

from __future__ import annotations

import numpy as np
import pytest

from gan_repro.errors import BadOptionError
from gan_repro.metrics.face_aging import (
    age_accuracy_raw_and_median,
    classifier_noise_check,
    matched_noise_std,
    median_filtered,
    pixel_noise,
)
from gan_repro.training.age_classifier import add_pixel_noise, noisy_labelled_stream


def _smooth_faces(n=24, size=32, seed=0):
    """Smooth uint8 images (low-frequency blobs), like real faces at this scale."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        a, b, c = rng.uniform(0.5, 3, 3)
        img = 0.6 * np.sin(a * np.pi * xx + c) * np.cos(b * np.pi * yy)
        out.append(np.clip(np.rint((img + 1) * 127.5), 0, 255))
    return np.stack(out).astype(np.uint8)[..., None]


def test_pixel_noise_grows_with_added_noise_and_median_removes_it():
    faces = _smooth_faces()
    clean = pixel_noise(faces)
    levels = [pixel_noise(add_pixel_noise(faces, s, seed=1)) for s in (0.05, 0.1, 0.2, 0.4)]
    assert clean < 0.02 and np.all(np.diff([clean, *levels]) > 0), (clean, levels)
    noisy = add_pixel_noise(faces, 0.3, seed=1)
    assert pixel_noise(median_filtered(noisy)) < 0.5 * pixel_noise(noisy)
    assert median_filtered(noisy).dtype == np.uint8 and median_filtered(noisy).shape == faces.shape


def test_matched_noise_std_recovers_the_noise_level():
    faces = _smooth_faces(seed=2)
    for sigma in (0.1, 0.25):
        target = pixel_noise(add_pixel_noise(faces, sigma, seed=3))
        got = matched_noise_std(faces, target, seed=4)
        assert got == pytest.approx(sigma, rel=0.1), (sigma, got)
    assert matched_noise_std(faces, 0.0) == 0.0  # already that noisy


def test_add_pixel_noise_per_image_std_and_clipping():
    faces = np.full((3, 16, 16, 1), 127, np.uint8)
    out = add_pixel_noise(faces, [0.0, 0.1, 5.0], seed=0)
    assert out.dtype == np.float32 and out.min() >= -1 and out.max() <= 1
    assert np.std(out[0]) == 0 and 0.07 < np.std(out[1]) < 0.13 and np.std(out[2]) > 0.8


def _brightness_classifier(x):
    """Callable classifier: class = brightness quartile of the image's median pixel, so noise
    does not move it and smoothing does not either."""
    m = np.median(np.asarray(x).reshape(len(x), -1), axis=1)
    k = np.clip(((m + 1) / 2 * 4).astype(int), 0, 3)
    return np.eye(4, dtype=np.float32)[k]


def test_raw_and_median_accuracy_and_the_real_face_check():
    levels = np.array([-0.75, -0.25, 0.25, 0.75])
    labels = np.repeat(np.arange(4), 8)
    faces = np.clip(np.rint((levels[labels][:, None, None, None] + 1) * 127.5), 0, 255)
    faces = np.broadcast_to(faces, (32, 16, 16, 1)).astype(np.uint8)
    noisy = add_pixel_noise(faces, 0.2, seed=0)
    both = age_accuracy_raw_and_median(
        _brightness_classifier, noisy, labels, group_names=["a", "b", "c", "d"]
    )
    assert both["raw"]["accuracy"] == 1.0 and both["median"]["accuracy"] == 1.0
    assert both["pixel_noise_median"] < both["pixel_noise_raw"]
    assert both["raw"]["per_group_accuracy"] == {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}
    check = classifier_noise_check(_brightness_classifier, faces, labels, 0.2, seed=1)
    assert check["noise_std"] == 0.2 and check["n"] == 32
    for key in ("clean", "noisy", "median", "noisy_median"):
        assert check[key]["accuracy"] == 1.0, key
    with pytest.raises(BadOptionError):
        pixel_noise(np.zeros((0, 8, 8, 1), np.uint8))


def test_noisy_stream_is_seeded_and_noises_the_share_asked_for():
    images = np.full((64, 8, 8, 1), 127, np.uint8)
    labels = np.arange(64) % 4
    take = lambda **kw: [  # noqa: E731
        (x.numpy(), y.numpy())
        for x, y in noisy_labelled_stream(images, labels, 32, seed=5, **kw).take(4)
    ]
    clean = take()
    assert all(np.all(x == -0.5 / 127.5) for x, _ in clean)
    a, b = take(noise_std=0.5, noise_prob=0.5), take(noise_std=0.5, noise_prob=0.5)
    for (xa, ya), (xb, _), (_, yc) in zip(a, b, clean, strict=True):
        np.testing.assert_array_equal(xa, xb)  # a function of (seed, batch)
        np.testing.assert_array_equal(ya, yc)  # the same faces as the clean stream
    x = np.concatenate([x for x, _ in a])
    noised = np.std(x.reshape(len(x), -1), axis=1) > 1e-6
    assert 0.3 < noised.mean() < 0.7 and np.all(np.abs(x) <= 1)
    assert np.std(x[noised]) < 0.5  # s ~ U(0, 0.5): the average noise is well below 0.5


def test_median5_in_tf_is_opencvs_median_inside_the_border():
    import cv2
    import tensorflow as tf

    from gan_repro.training.age_classifier import median5

    x = np.random.default_rng(0).integers(0, 256, (2, 20, 20, 3)).astype(np.uint8)
    got = median5(tf.constant(x.astype(np.float32))).numpy()
    ref = np.stack([cv2.medianBlur(img, 5) for img in x]).astype(np.float32)
    np.testing.assert_array_equal(got[:, 2:-2, 2:-2], ref[:, 2:-2, 2:-2])
    images = np.full((8, 8, 8, 1), 127, np.uint8)
    stream = noisy_labelled_stream(images, np.zeros(8), 8, seed=1, median_prob=1.0)
    x0, _ = next(iter(stream))
    np.testing.assert_allclose(x0.numpy(), -0.5 / 127.5)  # a flat face stays flat
