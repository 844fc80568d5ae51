"""Tests of gan_repro.losses against values worked out by hand (spec 001, section 2)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_repro.errors import BadOptionError, CorruptDataError, WeightsMissingError
from gan_repro.losses import (
    ADVERSARIAL_LOSSES,
    CONTENT_LAYERS,
    GP_WEIGHT,
    STYLE_LAYERS,
    VGG19_WEIGHTS_URL,
    adversarial_losses,
    feature_regulariser,
    gradient_penalty,
    gram_matrix,
    latent_cycle_loss,
    ns_discriminator_loss,
    ns_generator_loss,
    perceptual_losses,
    semantic_loss,
    vgg19_features,
    vgg19_weights_path,
    wgan_critic_loss,
    wgan_generator_loss,
)
from gan_repro.losses import perceptual as perceptual_mod


@pytest.fixture(autouse=True, scope="module")
def _exact_float32_matmuls():
    """Compare against float64 numpy at float32 precision: no TF32 on Ampere/Hopper GPUs."""
    previous = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    yield
    tf.config.experimental.enable_tensor_float_32_execution(previous)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def scalar(t):
    assert t.dtype == tf.float32
    assert t.shape == ()
    return float(t.numpy())


# ---------------------------------------------------------------- adversarial (spec 2.1)


def test_ns_losses_small_logits():
    real = [0.0, 2.0]
    fake = [-1.0, 1.0]
    # -mean log σ(real) - mean log(1 - σ(fake)), written naively.
    d_hand = (
        -sum(math.log(sigmoid(r)) for r in real) / 2
        - sum(math.log(1 - sigmoid(f)) for f in fake) / 2
    )
    g_hand = -sum(math.log(sigmoid(f)) for f in fake) / 2
    assert d_hand == pytest.approx(1.2232993, abs=1e-6)
    d = ns_discriminator_loss(tf.constant([[0.0], [2.0]]), tf.constant([[-1.0], [1.0]]))
    g = ns_generator_loss(tf.constant([[-1.0], [1.0]]))
    assert scalar(d) == pytest.approx(d_hand, rel=1e-6)
    assert scalar(g) == pytest.approx(g_hand, rel=1e-6)


def test_ns_losses_large_logits_stay_finite():
    # Confident and right: log(1 + e^-50) ~ 2e-22 per term.
    d_good = ns_discriminator_loss(tf.constant([[50.0]]), tf.constant([[-50.0]]))
    assert 0.0 <= scalar(d_good) < 1e-20
    # Confident and wrong: -log σ(-50) = 50 + log(1 + e^-50) ~ 50, twice. The naive
    # log(1 - sigmoid(50)) is log(0) = -inf in float32.
    real = tf.Variable([[-50.0]])
    fake = tf.Variable([[50.0]])
    with tf.GradientTape() as tape:
        d_bad = ns_discriminator_loss(real, fake)
    grads = tape.gradient(d_bad, [real, fake])
    assert scalar(d_bad) == pytest.approx(100.0, rel=1e-6)
    assert [float(g.numpy()[0, 0]) for g in grads] == pytest.approx([-1.0, 1.0], abs=1e-6)
    assert scalar(ns_generator_loss(tf.constant([[-50.0], [50.0]]))) == pytest.approx(25.0)
    assert scalar(ns_generator_loss(tf.constant([[-1000.0]]))) == pytest.approx(1000.0)


def test_wgan_losses():
    real = tf.constant([[1.0], [3.0]])  # mean 2
    fake = tf.constant([[-1.0], [0.5], [2.0]])  # mean 0.5
    assert scalar(wgan_critic_loss(real, fake)) == pytest.approx(0.5 - 2.0)
    assert scalar(wgan_generator_loss(fake)) == pytest.approx(-0.5)


def test_adversarial_losses_lookup():
    assert adversarial_losses("ns") == (ns_discriminator_loss, ns_generator_loss)
    assert adversarial_losses("wgan") == (wgan_critic_loss, wgan_generator_loss)
    assert adversarial_losses("wgan-gp") == (wgan_critic_loss, wgan_generator_loss)
    assert set(ADVERSARIAL_LOSSES) == {"ns", "wgan", "wgan-gp"}
    with pytest.raises(BadOptionError, match="wgan-gp"):
        adversarial_losses("hinge")


def test_float16_inputs_give_float32():
    d = ns_discriminator_loss(tf.constant([[0.0]], tf.float16), tf.constant([[0.0]], tf.float16))
    assert scalar(d) == pytest.approx(2 * math.log(2.0), rel=1e-6)


# ---------------------------------------------------------------- gradient penalty (spec 2.2)


def test_gp_linear_critic_is_norm_of_w():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(1, 3, 3, 2)).astype(np.float32)
    real = rng.uniform(-1, 1, size=(4, 3, 3, 2)).astype(np.float32)
    fake = rng.uniform(-1, 1, size=(4, 3, 3, 2)).astype(np.float32)
    alpha = rng.uniform(size=(4, 1, 1, 1)).astype(np.float32)

    def critic(x):
        return tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None]

    hand = (math.sqrt(float((w.astype(np.float64) ** 2).sum())) - 1.0) ** 2
    assert scalar(gradient_penalty(critic, real, fake, alpha)) == pytest.approx(hand, rel=1e-5)
    # A critic with slope exactly 1 has (almost) no penalty: only the 1e-12 inside the sqrt.
    unit = np.zeros((1, 3, 3, 2), np.float32)
    unit[0, 1, 1, 0] = 1.0
    gp = gradient_penalty(
        lambda x: tf.reduce_sum(unit * x, axis=[1, 2, 3])[:, None], real, fake, alpha
    )
    assert 0.0 <= scalar(gp) < 1e-10
    assert GP_WEIGHT == 10.0


def test_gp_quadratic_critic_depends_on_alpha():
    # f(x) = 0.5 * sum(x²) -> grad = x̂, slope = ||x̂||.
    def critic(x):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3], keepdims=False)[:, None]

    real = np.zeros((1, 1, 1, 2), np.float32)
    fake = np.array([3.0, 4.0], np.float32).reshape(1, 1, 1, 2)
    # alpha 0.5: x̂ = (1.5, 2), ||x̂|| = 2.5, GP = 1.5² = 2.25; alpha 1: ||x̂|| = 5, GP = 16.
    half = gradient_penalty(critic, real, fake, np.full((1, 1, 1, 1), 0.5, np.float32))
    one = gradient_penalty(critic, real, fake, np.ones((1, 1, 1, 1), np.float32))
    assert scalar(half) == pytest.approx(2.25, rel=1e-6)
    assert scalar(one) == pytest.approx(16.0, rel=1e-6)

    # Batch of two, per-sample alpha: x̂ = real + alpha*(fake-real), numpy by hand.
    real2 = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32).reshape(2, 1, 1, 2)
    fake2 = np.array([[1.0, 2.0], [0.0, 0.0]], np.float32).reshape(2, 1, 1, 2)
    alpha2 = np.array([0.25, 0.75], np.float32).reshape(2, 1, 1, 1)
    # sample 0: (1, 0.5) -> sqrt(1.25); sample 1: (0, 0.5) -> 0.5.
    hand = ((math.sqrt(1.25) - 1) ** 2 + (0.5 - 1) ** 2) / 2
    got = gradient_penalty(critic, real2, fake2, alpha2)
    assert scalar(got) == pytest.approx(hand, rel=1e-5)


def test_gp_second_order_gradient_reaches_critic_weights():
    # Linear critic with trainable w: d/dw (||w|| - 1)² = 2 (||w|| - 1) w / ||w||.
    w0 = np.array([0.5, -1.0, 2.0, 0.25], np.float32).reshape(1, 1, 2, 2)
    w = tf.Variable(w0)
    real = tf.random.stateless_uniform((3, 1, 2, 2), seed=(1, 2))
    fake = tf.random.stateless_uniform((3, 1, 2, 2), seed=(3, 4))
    alpha = tf.random.stateless_uniform((3, 1, 1, 1), seed=(5, 6))
    with tf.GradientTape() as tape:
        gp = gradient_penalty(
            lambda x: tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None], real, fake, alpha
        )
    grad = tape.gradient(gp, w)
    norm = math.sqrt(float((w0.astype(np.float64) ** 2).sum()))
    np.testing.assert_allclose(grad.numpy(), 2 * (norm - 1) * w0 / norm, rtol=1e-5)


def test_gp_second_order_keras_critic_in_tf_function():
    keras.utils.set_random_seed(0)
    critic = keras.Sequential(
        [
            keras.Input((4, 4, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    real = tf.random.stateless_uniform((5, 4, 4, 3), seed=(7, 8), minval=-1, maxval=1)
    fake = tf.random.stateless_uniform((5, 4, 4, 3), seed=(9, 10), minval=-1, maxval=1)
    alpha = tf.random.stateless_uniform((5, 1, 1, 1), seed=(11, 12))

    @tf.function
    def step():
        with tf.GradientTape(persistent=True) as tape:
            d_loss = wgan_critic_loss(critic(real), critic(fake))
            gp = gradient_penalty(critic, real, fake, alpha)
            total = d_loss + GP_WEIGHT * gp
        return (
            gp,
            tape.gradient(gp, critic.trainable_weights),
            tape.gradient(total, critic.trainable_weights),
        )

    gp, gp_grads, total_grads = step()
    assert np.isfinite(gp.numpy()) and gp.numpy() > 0
    for g in total_grads:
        assert g is not None
        assert np.all(np.isfinite(g.numpy()))
    # The penalty reaches every kernel, the first conv's included (second order through the
    # inner tape), with finite, non-zero gradients. (Biases of the last layer do not change
    # the input gradient, so their penalty gradient is None: that is correct.)
    kernels = [
        g for v, g in zip(critic.trainable_weights, gp_grads, strict=True) if "kernel" in v.path
    ]
    assert len(kernels) == 3
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in kernels)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in kernels)


# ---------------------------------------------------------------- coupling (spec 2.3-2.5)


def test_feature_regulariser_k2_of_3():
    f1 = [
        np.array([[1.0, 2.0], [3.0, 4.0]], np.float32),
        np.array([[[0.0, 1.0, 2.0]]], np.float32),
        np.full((2, 2), 100.0, np.float32),
    ]
    f2 = [
        np.array([[1.0, 0.0], [1.0, 4.0]], np.float32),
        np.array([[[3.0, 1.0, 1.0]]], np.float32),
        np.zeros((2, 2), np.float32),
    ]
    # layer 0: (0 + 4 + 4 + 0)/4 = 2; layer 1: (9 + 0 + 1)/3 = 10/3; layer 2 ignored. No 1/K.
    assert scalar(feature_regulariser(f1, f2, 2)) == pytest.approx(2 + 10 / 3, rel=1e-6)
    assert scalar(feature_regulariser(f1, f2, 1)) == pytest.approx(2.0)
    assert scalar(feature_regulariser(f1, f2, 3)) == pytest.approx(2 + 10 / 3 + 10000.0)
    assert scalar(feature_regulariser(f1, f2, np.int64(1))) == pytest.approx(2.0)


@pytest.mark.parametrize("k", [4, 0, -1, 2.0, True])
def test_feature_regulariser_refuses_bad_k(k):
    f = [np.zeros((1, 2), np.float32)] * 3
    with pytest.raises(BadOptionError, match="k="):
        feature_regulariser(f, f, k)


def test_semantic_loss():
    p1 = np.array([[0.2, 0.8], [0.5, 0.5]], np.float32)
    p2 = np.array([[0.6, 0.4], [0.5, 0.5]], np.float32)
    # squared differences 0.16, 0.16, 0, 0 -> mean 0.08 (code); /2 -> 0.04 (Eq 4.2)
    assert scalar(semantic_loss(p1, p2)) == pytest.approx(0.08, rel=1e-6)
    assert scalar(semantic_loss(p1, p2, halve=True)) == pytest.approx(0.04, rel=1e-6)


def test_latent_cycle_loss():
    z = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    z1 = np.array([[0.5, 1.0], [1.0, -1.0]], np.float32)  # diffs 0.5, 0, 0, -1
    z2 = np.array([[0.0, 3.0], [1.0, 0.0]], np.float32)  # diffs 0, 2, 0, 0
    # l1 (code): mean|.| = 1.5/4 + 2/4 = 0.875
    assert scalar(latent_cycle_loss(z1, z2, z)) == pytest.approx(0.875, rel=1e-6)
    assert scalar(latent_cycle_loss(z1, z2, z, "l1")) == pytest.approx(0.875, rel=1e-6)
    # l2 (Eq 4.3): per-sample ||.||² sums: sample0 0.25 + 4, sample1 1 + 0 -> mean 2.625
    assert scalar(latent_cycle_loss(z1, z2, z, "l2")) == pytest.approx(2.625, rel=1e-6)
    with pytest.raises(BadOptionError, match="distance"):
        latent_cycle_loss(z1, z2, z, "l3")


def test_coupling_losses_in_tf_function():
    fn = tf.function(lambda a, b, z: latent_cycle_loss(a, b, z, "l2") + semantic_loss(a, b))
    a = tf.ones((2, 3))
    b = tf.zeros((2, 3))
    # l2: 3 + 0 per sample -> 3 (z = b); SL: mean of 1 = 1
    assert scalar(fn(a, b, b)) == pytest.approx(4.0)


# ---------------------------------------------------------------- perceptual (spec 2.6, 10.5)


def test_gram_matrix_matches_numpy():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    hand = np.einsum("bijc,bijd->bcd", f, f) / (3 * 4)
    got = gram_matrix(f)
    assert got.shape == (2, 5, 5)
    np.testing.assert_allclose(got.numpy(), hand, rtol=1e-5, atol=1e-6)
    # Tiny literal: one pixel row (1,2),(3,4): G = [[1+9, 2+12], [2+12, 4+16]] / 2
    tiny = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(1, 1, 2, 2)
    np.testing.assert_allclose(gram_matrix(tiny).numpy()[0], [[5.0, 7.0], [7.0, 10.0]])


def test_perceptual_losses_match_numpy():
    rng = np.random.default_rng(2)
    names = CONTENT_LAYERS + STYLE_LAYERS
    shapes = {n: (2, 4 - i // 2, 3 + i % 2, 2 + i) for i, n in enumerate(names)}

    def feats():
        return {n: rng.normal(size=s).astype(np.float32) for n, s in shapes.items()}

    f1, f2, r1, r2 = feats(), feats(), feats(), feats()

    def gram(x):
        return np.einsum("bijc,bijd->bcd", x, x) / (x.shape[1] * x.shape[2])

    cw, sw = 0.5, 0.25
    content = cw * np.mean((f1["block5_conv2"] - f2["block5_conv2"]) ** 2)
    style1 = sw * sum(np.mean((gram(f1[n]) - gram(r1[n])) ** 2) for n in STYLE_LAYERS) / 5
    style2 = sw * sum(np.mean((gram(f2[n]) - gram(r2[n])) ** 2) for n in STYLE_LAYERS) / 5
    got = perceptual_losses(f1, f2, r1, r2, content_weight=cw, style_weight=sw)
    assert [scalar(t) for t in got] == pytest.approx([content, style1, style2], rel=1e-5)
    # defaults α_PL = 1e-3, β_PL = 1e-11
    got_default = perceptual_losses(f1, f2, r1, r2)
    assert scalar(got_default[0]) == pytest.approx(content / cw * 1e-3, rel=1e-5)
    assert scalar(got_default[1]) == pytest.approx(style1 / sw * 1e-11, rel=1e-5)


@pytest.fixture(scope="module")
def random_vgg():
    return vgg19_features(weights=None, input_shape=(32, 32, 3))


def test_vgg19_features_random_weights_shapes_and_frozen(random_vgg):
    model = random_vgg
    out = model(tf.zeros((2, 32, 32, 3)))
    expected = {
        "block1_conv1": (2, 32, 32, 64),
        "block2_conv1": (2, 16, 16, 128),
        "block3_conv1": (2, 8, 8, 256),
        "block4_conv1": (2, 4, 4, 512),
        "block5_conv1": (2, 2, 2, 512),
        "block5_conv2": (2, 2, 2, 512),
    }
    assert isinstance(out, dict)
    assert {k: tuple(v.shape) for k, v in out.items()} == expected
    assert model.trainable_weights == []
    assert len(model.non_trainable_weights) == 28  # 14 convs up to block5_conv2 x (kernel, bias)


def test_vgg19_preprocessing_inside_model(random_vgg):
    # [-1,1] -> [0,255] -> RGB->BGR minus ImageNet means (103.939, 116.779, 123.68).
    layer = random_vgg.get_layer("vgg19_preprocess")
    x = np.array([[1.0, -1.0, -1.0], [0.0, 0.0, 0.0]], np.float32).reshape(1, 1, 2, 3)
    got = np.asarray(layer(x))[0, 0]
    hand = [
        [0.0 - 103.939, 0.0 - 116.779, 255.0 - 123.68],
        [127.5 - 103.939, 127.5 - 116.779, 127.5 - 123.68],
    ]
    np.testing.assert_allclose(got, hand, rtol=1e-5, atol=1e-3)


def test_vgg19_missing_path_raises():
    with pytest.raises(WeightsMissingError, match="/nonexistent.h5") as info:
        vgg19_features(weights="/nonexistent.h5")
    assert VGG19_WEIGHTS_URL in str(info.value)


def test_vgg19_corrupt_file_raises(tmp_path):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(CorruptDataError, match="broken.h5"):
        vgg19_features(weights=str(bad))


def test_vgg19_loads_weights_from_cache_and_from_path(tmp_path, monkeypatch):
    # Write random VGG19 notop weights in the legacy .h5 layout of the official file, then
    # check that "imagenet" (via the Keras cache) and an explicit path both load them exactly.
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    h5py = pytest.importorskip("h5py")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("the cached file must be used, not downloaded")

    monkeypatch.setattr(perceptual_mod.keras.utils, "get_file", no_network)
    keras.utils.set_random_seed(3)
    src = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    cached = vgg19_weights_path()
    cached.parent.mkdir(parents=True)
    with h5py.File(cached, "w") as f:
        legacy.save_weights_to_hdf5_group(f, src)
    x = np.linspace(-1, 1, 2 * 32 * 32 * 3, dtype=np.float32).reshape(2, 32, 32, 3)
    # reference: same weights, preprocessing written out by hand (RGB->BGR, minus means)
    bgr = ((x + 1) * 127.5)[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
    ref = keras.Model(src.input, src.get_layer("block3_conv1").output)(bgr)
    for weights in ("imagenet", str(cached)):
        got = vgg19_features(weights=weights)(x)["block3_conv1"]
        np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-4, atol=1e-3)
