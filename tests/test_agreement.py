"""Joint-distribution agreement metrics (gan_repro.metrics.agreement) on real MNIST digits."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gan_repro.data import grey_to_rgb, load_mnist, mnist_edge, mnist_to_rgb32, to_unit_range
from gan_repro.errors import BadOptionError
from gan_repro.metrics.agreement import (
    class_agreement,
    class_agreement_from_images,
    edge_pixel_agreement,
    expected_edge_images,
)
from gan_repro.models.classifiers import digit_classifier_b1

N = 2000  # pairs; the std of an agreement rate near 0.1 is then about 0.007


@pytest.fixture(scope="module")
def mnist():
    return load_mnist("test", source="bundled")


@pytest.fixture(scope="module")
def digits32(mnist):
    """Bundled MNIST test digits as float [-1, 1] [N,32,32,3] (the G1 output format)."""
    return to_unit_range(mnist_to_rgb32(mnist.images))


@pytest.fixture(scope="module")
def centroid_classifier(mnist, digits32):
    """A cheap deterministic Keras classifier: nearest class mean, fitted on images [5000:].

    score_k = 2 x.mu_k - |mu_k|^2 (argmax = the nearest class mean), softmax. It stands in for
    a trained Table B.1 net: the agreement metric only needs some fixed image -> class map.
    """
    x = digits32[5000:].reshape(len(digits32) - 5000, -1)
    y = mnist.labels[5000:]
    mu = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    images = keras.Input((32, 32, 3))
    dense = keras.layers.Dense(10, activation="softmax")
    model = keras.Model(images, dense(keras.layers.Flatten()(images)))
    dense.set_weights([2 * mu.T.astype(np.float32), -(mu**2).sum(axis=1).astype(np.float32)])
    return model


def test_class_agreement_hand_made():
    p1 = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2]])
    p2 = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.0, 0.1, 0.9], [0.1, 0.8, 0.1]])
    assert class_agreement(p1, p2) == 0.5  # pairs 0 and 2 agree
    assert class_agreement(p1, p1) == 1.0
    assert class_agreement(np.array([0, 1, 2, 0]), p2) == 0.5  # integer labels are accepted
    with pytest.raises(BadOptionError):
        class_agreement(p1, p2[:3])


def test_class_agreement_from_images_coupled_vs_independent(centroid_classifier, digits32):
    x1 = digits32[:N]
    rng = np.random.default_rng(0)
    # coupled: G2 draws the same digit with a little pixel noise (the class is kept)
    coupled = np.clip(x1 + rng.normal(0, 0.1, x1.shape).astype(np.float32), -1, 1)
    # independent: G2's images come in a shuffled order (same marginals, no joint structure)
    independent = x1[rng.permutation(N)]

    c = class_agreement_from_images(centroid_classifier, x1, coupled, batch_size=512)
    i = class_agreement_from_images(centroid_classifier, x1, independent, batch_size=512)

    assert c["n"] == i["n"] == N
    assert c["agreement"] > 0.95
    assert 0.08 < i["chance"] < 0.13  # ten roughly balanced classes
    assert abs(i["agreement"] - i["chance"]) < 0.03
    assert c["agreement"] > i["agreement"] + 0.8

    for r in (c, i):
        conf = np.array(r["confusion"])
        assert conf.shape == (10, 10) and conf.sum() == N
        assert np.trace(conf) / N == pytest.approx(r["agreement"])
        m1, m2 = conf.sum(axis=1) / N, conf.sum(axis=0) / N
        assert r["chance"] == pytest.approx(float(m1 @ m2))
        np.testing.assert_allclose(r["marginal1"], m1)
        np.testing.assert_allclose(r["marginal2"], m2)
    # the shuffled set has the same class histogram as the original
    np.testing.assert_allclose(i["marginal1"], i["marginal2"])


def test_class_agreement_from_images_matches_class_agreement(centroid_classifier, digits32):
    x1, x2 = digits32[:300], digits32[300:600]
    r = class_agreement_from_images(centroid_classifier, x1, x2, batch_size=128)
    p1, p2 = np.asarray(centroid_classifier(x1)), np.asarray(centroid_classifier(x2))
    assert r["agreement"] == pytest.approx(class_agreement(p1, p2))


def test_class_agreement_from_images_callable_and_b1(mnist):
    u8 = mnist_to_rgb32(mnist.images[:64])
    x = to_unit_range(u8)

    def brightness(batch):  # any callable: "class" = brightness bin of the mean pixel
        bins = np.clip(((batch.mean(axis=(1, 2, 3)) + 1) * 20).astype(int), 0, 9)
        return np.eye(10)[bins]

    r = class_agreement_from_images(brightness, x, u8)  # uint8 is read as (x - 127.5) / 127.5
    assert r["agreement"] == 1.0
    # the Table B.1 net itself (untrained weights: the numbers only show that it plugs in)
    b1 = digit_classifier_b1()
    r = class_agreement_from_images(b1, x, x, batch_size=32)
    assert r["agreement"] == 1.0 and r["n"] == 64 and len(r["confusion"]) == 10
    with pytest.raises(BadOptionError):
        class_agreement_from_images(b1, x, x[:10])


def test_edge_pixel_agreement_exact_and_unrelated(digits32):
    g1 = digits32[:N]
    # G2 drawing exactly the MNIST2edge transform of G1's digit: perfect agreement
    g2 = to_unit_range(grey_to_rgb(mnist_edge(np.rint((g1[..., 0] + 1) * 127.5).astype(np.uint8))))
    assert edge_pixel_agreement(g1, g2) == 1.0
    assert edge_pixel_agreement(g1, g2[..., 0]) == 1.0  # [N,H,W] grey works too
    np.testing.assert_array_equal(expected_edge_images(g1), g2[..., 0])
    # G2 drawing the edges of a different digit: clearly lower
    other = g2[np.random.default_rng(1).permutation(N)]
    unrelated = edge_pixel_agreement(g1, other)
    assert unrelated < 0.9


def test_edge_pixel_agreement_real_pairs_and_definition(mnist, digits32):
    g1 = digits32[:N]
    real_edges = to_unit_range(mnist_to_rgb32(mnist_edge(mnist.images[:N])))
    # real pairs: the training edges are made at 28x28 and then resized to 32, so not 1.0
    real = edge_pixel_agreement(g1, real_edges)
    shuffled = edge_pixel_agreement(g1, real_edges[np.random.default_rng(2).permutation(N)])
    assert 0.95 < real < 1.0
    assert shuffled < real - 0.1

    # hand-made 1x2x2 case: digit pixel at (0,0) -> its dilation-minus-image is the other 3
    # pixels (255 each); G2 gets 2 of the 4 binarised pixels right.
    img = np.full((1, 2, 2), -1.0, np.float32)
    img[0, 0, 0] = 1.0
    g2 = np.array([[[-1.0, 1.0], [-1.0, -1.0]]], np.float32)
    assert edge_pixel_agreement(img, g2) == 0.5
    # threshold on the [-1, 1] scale: at 0.5 a G2 pixel of 0.4 counts as background
    g2b = np.array([[[-1.0, 0.4], [1.0, 1.0]]], np.float32)
    assert edge_pixel_agreement(img, g2b, threshold=0.0) == 1.0
    assert edge_pixel_agreement(img, g2b, threshold=0.5) == 0.75
