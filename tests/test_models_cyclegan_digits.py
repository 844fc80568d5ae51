"""MNIST <-> USPS CycleGAN builders (specs 002 section 1.2 and 004 section 1.1).

Neither report prints a summary, so the pinned counts are derived layer by layer (a conv with
kernel k, n_in -> n_out channels has k*k*n_in*n_out weights + n_out biases):

Keras-GAN U-Net G, gf 32, C 3 (spec 002 s1.2)::

    down1  16*3*32    + 32  =     1,568
    down2  16*32*64   + 64  =    32,832
    down3  16*64*128  + 128 =   131,200
    down4  16*128*256 + 256 =   524,544
    up1    16*256*128 + 128 =   524,416   (reads down4: 256 ch; concat d3 -> 256)
    up2    16*256*64  + 64  =   262,208   (concat d2 -> 128)
    up3    16*128*32  + 32  =    65,568   (concat d1 -> 64)
    out    16*64*3    + 3   =     3,075
    convs                     1,545,411
    7 norms, "contrib": 7 * 2 = 14                   -> 1,545,425
    7 norms, "instance": 2 * (32+64+128+256+128+64+32) = 1,408 -> 1,546,819

Keras-GAN PatchGAN D, df 64, C 3::

    d1 16*3*64 + 64 = 3,136;  d2 16*64*128 + 128 = 131,200;  d3 16*128*256 + 256 = 524,544
    d4 16*256*512 + 512 = 2,097,664;  out 16*512*1 + 1 = 8,193;  convs 2,764,737
    3 norms, "contrib": 6 -> 2,764,743;  "instance": 2 * (128+256+512) = 1,792 -> 2,766,529

Every norm parameter is trainable (no moving statistics).

Kasmi & Thimonier G, widths (32, 64), C 1 (spec 004 s1.1; BN = 4 per channel, half of them
non-trainable moving statistics)::

    down1 25*1*32 = 800 + BN 128;  down2 25*32*64 = 51,200 + BN 256
    res 9*64*64 = 36,864 + BN 256;  up1 25*64*32 = 51,200 + BN 128;  up2 25*32*1 + 1 = 801
    total 141,633; non-trainable (32+64+64+32)*2 = 384; trainable 141,249

Kasmi & Thimonier D, widths (32, 64, 128), C 1::

    d1 800 + BN 128;  d2 51,200 + BN 256;  d3 25*64*128 = 204,800 + BN 512;  out 16*128 + 1
    = 2,049;  total 259,745; non-trainable (32+64+128)*2 = 448; trainable 259,297
"""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_repro.errors import BadOptionError
from gan_repro.models import cyclegan_digits as cd
from gan_repro.models.layers import WholeImageNormalization
from gan_repro.models.registry import unique_params
from gan_repro.registry import NETWORKS

# key: builder, kwargs, total, trainable
COUNTS = {
    "unet_contrib": (cd.mnist_usps_unet_generator, {"norm": "contrib"}, 1_545_425, 1_545_425),
    "unet_instance": (cd.mnist_usps_unet_generator, {"norm": "instance"}, 1_546_819, 1_546_819),
    "patch_contrib": (
        cd.mnist_usps_patch_discriminator,
        {"norm": "contrib"},
        2_764_743,
        2_764_743,
    ),
    "patch_instance": (
        cd.mnist_usps_patch_discriminator,
        {"norm": "instance"},
        2_766_529,
        2_766_529,
    ),
    "resblock_28": (cd.mnist_usps_resblock_generator_28, {}, 141_633, 141_249),
    "conv_d_28": (cd.mnist_usps_conv_discriminator_28, {}, 259_745, 259_297),
}
# the size each is built at for the count test, and a second size (fast-test size)
SIZES = {
    "unet": [((128, 128, 3), (128, 128, 3)), ((32, 32, 3), (32, 32, 3))],
    "patch": [((128, 128, 3), (8, 8, 1)), ((32, 32, 3), (2, 2, 1))],
    "resblock": [((28, 28, 1), (28, 28, 1)), ((32, 32, 1), (32, 32, 1))],
    "conv": [((28, 28, 1), (1, 1, 1)), ((32, 32, 1), (1, 1, 1))],
}


@functools.cache
def built(key: str, image_shape: tuple) -> keras.Model:
    builder, kwargs, *_ = COUNTS[key]
    return builder(image_shape=image_shape, **kwargs)


def out_shape(model: keras.Model) -> tuple:
    return tuple(model.outputs[0].shape[1:])


def model_channels(key: str) -> int:
    return 1 if key.endswith("28") else 3


@pytest.mark.parametrize("key", list(COUNTS))
@pytest.mark.parametrize("size_index", [0, 1])
def test_counts_and_shapes_at_both_sizes(key, size_index):
    _, _, total, trainable = COUNTS[key]
    in_shape, expected_out = SIZES[key.split("_")[0]][size_index]
    model = built(key, in_shape)
    assert model.count_params() == total  # no count depends on the image size
    assert unique_params([model]) == total
    assert unique_params([model], trainable_only=True) == trainable
    assert tuple(model.inputs[0].shape[1:]) == in_shape
    assert out_shape(model) == expected_out


@pytest.mark.parametrize(
    "key, size", [("unet_contrib", 32), ("patch_instance", 32), ("resblock_28", 28)]
)
def test_forward_pass_is_finite_float32(key, size):
    model = built(key, (size, size, model_channels(key)))
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, model_channels(key)))
    y = np.asarray(model(x.astype(np.float32), training=False))
    assert y.shape == (2, *out_shape(model))
    assert y.dtype == np.float32 and np.all(np.isfinite(y))
    if key in ("unet_contrib", "resblock_28"):
        assert np.all(np.abs(y) <= 1.0)  # tanh images


def test_norm_layer_kinds_and_their_counts():
    contrib = built("unet_contrib", (32, 32, 3))
    norms = [la for la in contrib.layers if isinstance(la, WholeImageNormalization)]
    assert len(norms) == 7 and all(la.count_params() == 2 for la in norms)
    instance = built("unet_instance", (32, 32, 3))
    groups = [la for la in instance.layers if isinstance(la, keras.layers.GroupNormalization)]
    assert [la.count_params() for la in groups] == [2 * c for c in (32, 64, 128, 256, 128, 64, 32)]
    patch = built("patch_contrib", (32, 32, 3))
    assert sum(isinstance(la, WholeImageNormalization) for la in patch.layers) == 3
    assert patch.layers[-1].activation.__name__ == "linear"


def test_unet_skips_concatenate_the_matching_downs():
    g = built("unet_contrib", (128, 128, 3))
    skips = [g.get_layer(f"up{i}_skip").output.shape[1:] for i in (1, 2, 3)]
    assert [tuple(s) for s in skips] == [(16, 16, 256), (32, 32, 128), (64, 64, 64)]
    downs = [tuple(g.get_layer(f"down{i}_conv").output.shape[1:]) for i in (1, 2, 3, 4)]
    assert downs == [(64, 64, 32), (32, 32, 64), (16, 16, 128), (8, 8, 256)]


def test_contrib_norm_is_keras_contrib_instance_norm_with_axis_none():
    """keras_contrib ``InstanceNormalization()`` (axis=None): per image, over H, W and C at
    once, ``(x - mean) / (std + 1e-3)`` (its ``K.std(...) + self.epsilon``), one gamma, one
    beta; the other images of the batch play no part."""
    rng = np.random.default_rng(3)
    scales = np.array([0.05, 1.0, 3.0]).reshape(3, 1, 1, 1)
    x = (rng.normal(size=(3, 5, 6, 4)) * scales + 2.0).astype(np.float32)
    layer = WholeImageNormalization()
    y = np.asarray(layer(x))
    assert [tuple(w.shape) for w in layer.weights] == [(1,), (1,)]
    for i in range(3):
        xi = x[i].astype(np.float64)
        expected = (xi - xi.mean()) / (xi.std() + 1e-3)  # numpy std: population, as K.std
        np.testing.assert_allclose(y[i], expected, rtol=1e-4, atol=1e-4)
    # not the sqrt(var + eps) form, which differs clearly at small std (image 0: std ~ 0.05)
    x0 = x[0].astype(np.float64)
    assert not np.allclose(y[0], (x0 - x0.mean()) / np.sqrt(x0.var() + 1e-3), rtol=0.05)
    # independent of the rest of the batch
    other = x.copy()
    other[1:] = rng.normal(size=other[1:].shape) * 10
    np.testing.assert_allclose(np.asarray(layer(other))[0], y[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer(x[:1]))[0], y[0], rtol=1e-6, atol=1e-6)
    # the scalar gamma and beta apply to every element
    layer.set_weights([np.array([2.0], np.float32), np.array([0.5], np.float32)])
    np.testing.assert_allclose(np.asarray(layer(x)), 2.0 * y + 0.5, rtol=1e-5, atol=1e-5)


def test_contrib_norm_serialises_and_survives_mixed_precision():
    layer = WholeImageNormalization(epsilon=1e-2, name="wn")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, WholeImageNormalization) and clone.epsilon == 1e-2
    constant = np.ones((2, 4, 4, 3), np.float32)  # zero variance: finite output and gradient
    v = tf.Variable(constant)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(WholeImageNormalization()(v) ** 2)
    assert np.all(np.isfinite(tape.gradient(loss, v).numpy()))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g = cd.mnist_usps_unet_generator(image_shape=(32, 32, 3))
        d = cd.mnist_usps_conv_discriminator_28()
    finally:
        keras.config.set_dtype_policy(previous)
    assert g.outputs[0].dtype == "float32" and d.outputs[0].dtype == "float32"
    y = np.asarray(g(np.zeros((1, 32, 32, 3), np.float32)))
    assert y.dtype == np.float32 and np.all(np.isfinite(y))


def test_resblock_generator_intermediate_sizes_at_28():
    g = built("resblock_28", (28, 28, 1))
    names = ["down1_relu", "down2_relu", "res_relu", "up1_relu", "translated"]
    sides = [tuple(g.get_layer(n).output.shape[1:3]) for n in names]
    assert sides == [(14, 14), (7, 7), (7, 7), (16, 16), (28, 28)]
    assert tuple(g.get_layer("up2_upsample").output.shape[1:3]) == (32, 32)
    convs = [la for la in g.layers if isinstance(la, keras.layers.Conv2D)]
    assert [la.use_bias for la in convs] == [False, False, False, False, True]
    bns = [la for la in g.layers if isinstance(la, keras.layers.BatchNormalization)]
    assert len(bns) == 4
    assert all(la.momentum == 0.9 and la.epsilon == 1e-5 for la in bns)


def test_resblock_is_relu_of_input_plus_bn_conv():
    g = built("resblock_28", (28, 28, 1))
    add = g.get_layer("res_add")
    sources = {t._keras_history.operation.name for t in add.input}
    assert "down2_relu" in sources  # the skip is the block input itself


def test_conv_discriminator_sizes_and_logit():
    d = built("conv_d_28", (28, 28, 1))
    sides = [tuple(d.get_layer(f"d{i}_relu").output.shape[1:3]) for i in (1, 2, 3)]
    assert sides == [(14, 14), (7, 7), (4, 4)]
    assert d.get_layer("logit").activation.__name__ == "linear"
    assert d.get_layer("logit").use_bias


def test_bad_sizes_and_options_are_refused():
    with pytest.raises(BadOptionError, match="multiples of 16"):
        cd.mnist_usps_unet_generator(image_shape=(28, 28, 3))
    with pytest.raises(BadOptionError, match="multiples of 16"):
        cd.mnist_usps_patch_discriminator(image_shape=(100, 100, 3))
    with pytest.raises(BadOptionError, match="multiples of 4"):
        cd.mnist_usps_resblock_generator_28(image_shape=(30, 30, 1))
    with pytest.raises(BadOptionError, match=r"25\.\.32.*16x16 USPS"):
        cd.mnist_usps_conv_discriminator_28(image_shape=(16, 16, 1))
    with pytest.raises(BadOptionError, match=r"25\.\.32"):
        cd.mnist_usps_conv_discriminator_28(image_shape=(64, 64, 1))
    with pytest.raises(BadOptionError, match="norm"):
        cd.mnist_usps_unet_generator(norm="batch")
    with pytest.raises(BadOptionError, match="norm"):
        cd.mnist_usps_patch_discriminator(norm="layer")


@pytest.mark.parametrize(
    "name, kwargs, total",
    [
        ("mnist_usps_unet_generator", {"image_shape": (32, 32, 3)}, 1_545_425),
        ("mnist_usps_patch_discriminator", {"image_shape": (32, 32, 3)}, 2_764_743),
        ("mnist_usps_resblock_generator_28", {}, 141_633),
        ("mnist_usps_conv_discriminator_28", {}, 259_745),
    ],
)
def test_registered_by_name(name, kwargs, total):
    assert NETWORKS.entry(name).source
    model = NETWORKS.build(name, name="x", **kwargs)
    assert isinstance(model, keras.Model) and model.name == "x"
    assert model.count_params() == total
