"""MNIST2negative (Fig 3.2b, spec 4: "colour-negated MNIST", L533-537)."""

import numpy as np
import pytest

from gan_repro.data.transforms import (
    mnist2edge_domains,
    mnist2negative_domains,
    mnist_negative,
    mnist_to_rgb32,
)
from gan_repro.errors import BadOptionError


def test_negative_is_255_minus_the_image_and_an_involution():
    x = np.array([[[0, 1, 127], [128, 254, 255]]], np.uint8)
    np.testing.assert_array_equal(mnist_negative(x), [[[255, 254, 128], [127, 1, 0]]])
    rng = np.random.default_rng(0)
    d = rng.integers(0, 256, (5, 28, 28), np.uint8)
    np.testing.assert_array_equal(mnist_negative(mnist_negative(d)), d)
    # negation commutes with the 28 -> 32 resize and grey -> RGB up to rounding (1 grey level)
    a = mnist_to_rgb32(mnist_negative(d)).astype(int)
    b = mnist_negative(mnist_to_rgb32(d)).astype(int)
    assert np.abs(a - b).max() <= 1
    with pytest.raises(BadOptionError, match="uint8"):
        mnist_negative(d.astype(np.float32))


def test_mnist2negative_domains_are_disjoint_halves_like_mnist2edge():
    d = np.random.default_rng(1).integers(0, 256, (7, 28, 28), np.uint8)
    plain, negative = mnist2negative_domains(d)
    assert plain.shape == negative.shape == (3, 28, 28)
    np.testing.assert_array_equal(plain, d[:3])
    np.testing.assert_array_equal(negative, 255 - d[3:6])
    edge_plain, _ = mnist2edge_domains(d)
    np.testing.assert_array_equal(plain, edge_plain)  # the same split as MNIST2edge
