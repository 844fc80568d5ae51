"""The drop-in layers of :mod:`gan_repro.models.fused` compute what the Keras layers they
replace compute: same variables, same outputs and gradients to float32 rounding, same
moving statistics."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_repro.models import fused
from gan_repro.models.cogan32 import cogan_generators_32


def _twins(keras_layer, ours, shape):
    """Both layers built on ``shape`` with the same (perturbed) weights."""
    keras_layer.build(shape)
    ours.build(shape)
    rng = np.random.default_rng(0)
    assert [tuple(v.shape) for v in keras_layer.weights] == [tuple(v.shape) for v in ours.weights]
    for a, b in zip(keras_layer.weights, ours.weights, strict=True):
        value = a.numpy() + rng.uniform(0.05, 0.2, a.shape).astype("float32")
        a.assign(value)
        b.assign(value)


def _forward_backward(layer, x, **kw):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, **kw)
        loss = tf.reduce_sum(y * tf.sin(3.0 * x[..., : y.shape[-1]]) if y.shape == x.shape else y)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return [y.numpy(), *(g.numpy() for g in grads)]


@pytest.mark.parametrize("synchronized", [False, True])
def test_batch_norm_matches_keras_in_training_and_inference(synchronized):
    x = tf.random.stateless_normal((16, 6, 6, 8), (1, 2)) * 3.0 + 1.5
    ref = keras.layers.BatchNormalization(synchronized=synchronized, momentum=0.8)
    ours = fused.BatchNormalization(synchronized=synchronized, momentum=0.8)
    _twins(ref, ours, x.shape)
    for a, b in zip(
        _forward_backward(ref, x, training=True),
        _forward_backward(ours, x, training=True),
        strict=True,
    ):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=5e-5)
    # the moving statistics moved the same way (biased batch variance, momentum 0.8)
    for a, b in zip(ref.non_trainable_weights, ours.non_trainable_weights, strict=True):
        assert not np.allclose(a.numpy(), [0.0, 1.0][a is ref.moving_variance])
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ours(x, training=False), ref(x, training=False), rtol=1e-5, atol=1e-5
    )


def test_batch_norm_on_other_inputs_is_the_keras_layer():
    x = tf.random.stateless_normal((10, 7), (3, 4))  # 2-D: no fused kernel
    ref, ours = keras.layers.BatchNormalization(), fused.BatchNormalization()
    _twins(ref, ours, x.shape)
    np.testing.assert_array_equal(ours(x, training=True), ref(x, training=True))


def test_prelu_is_exactly_keras_prelu():
    x = tf.random.stateless_normal((4, 5, 5, 3), (5, 6))
    for shared in (None, [1, 2]):
        ref = keras.layers.PReLU(shared_axes=shared)
        ours = fused.PReLU(shared_axes=shared)
        _twins(ref, ours, x.shape)
        for a, b in zip(_forward_backward(ref, x), _forward_backward(ours, x), strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "size, cin, cout, kernel, stride",
    [(4, 32, 16, 3, 2), (8, 16, 3, 6, 1), (5, 8, 4, 4, 2), (4, 8, 4, 5, 3), (6, 8, 4, 4, 1)],
)
def test_matmul_conv_transpose_matches_keras(size, cin, cout, kernel, stride):
    x = tf.random.stateless_normal((3, size, size, cin), (7, 8))
    ref = keras.layers.Conv2DTranspose(cout, kernel, stride, "same", activation="tanh")
    ours = fused.MatmulConv2DTranspose(cout, kernel, stride, "same", activation="tanh")
    _twins(ref, ours, x.shape)
    want, got = _forward_backward(ref, x), _forward_backward(ours, x)
    assert got[0].shape == (3, size * stride, size * stride, cout)
    for a, b in zip(want, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=2e-5)


def test_the_table_3_1_generator_uses_them_with_unchanged_parameter_counts():
    g1, _ = cogan_generators_32(shared_layers=0)
    kinds = {type(layer) for layer in g1.layers}
    assert {fused.BatchNormalization, fused.PReLU, fused.MatmulConv2DTranspose} <= kinds
    assert g1.count_params() == 8_116_099  # Table 3.1 with the authors' per-element PReLU


def test_gan_repro_fused_0_gives_the_keras_ops_bit_for_bit(monkeypatch):
    monkeypatch.setenv("GAN_REPRO_FUSED", "0")
    x = tf.random.stateless_normal((4, 4, 4, 8), (9, 9))
    pairs = [
        (keras.layers.BatchNormalization(), fused.BatchNormalization(), {"training": True}),
        (keras.layers.PReLU(), fused.PReLU(), {}),
        (
            keras.layers.Conv2DTranspose(3, 6, 1, "same"),
            fused.MatmulConv2DTranspose(3, 6, 1, "same"),
            {},
        ),
    ]
    for ref, ours, kw in pairs:
        _twins(ref, ours, x.shape)
        np.testing.assert_array_equal(ours(x, **kw), ref(x, **kw))
