"""Face-aging builders against the thesis's Appendix A summaries (spec 000 section 1).

The expected totals are the printed ``model.summary()`` figures (Figs A.1-A.9); the wrapper
counts add the label embeddings that the summaries leave out (spec 1.3 row 0).
"""

import functools

import keras
import numpy as np
import pytest

from gan_repro.errors import BadOptionError
from gan_repro.models import face_aging as fa
from gan_repro.models.registry import unique_params

# builder, kwargs, total, trainable, per-output shapes (without batch) - Figs A.1-A.9
PUBLISHED = {
    "dcgan_g": (fa.face_aging_dcgan_generator, {}, 8_302_721, 8_302_337, [(100, 100, 1)]),
    "dcgan_d": (fa.face_aging_dcgan_discriminator, {}, 432_897, 432_001, [(1,)]),
    "cyclegan_g": (
        fa.face_aging_cyclegan_generator,
        {},
        35_276_553,
        35_276_553,
        [(256, 256, 3)],
    ),
    "cyclegan_d": (fa.face_aging_cyclegan_discriminator, {}, 6_962_369, 6_962_369, [(16, 16, 1)]),
    "cgan_g_body": (
        fa.face_aging_cgan_generator_body,
        {},
        10_939_920,
        10_936_336,
        [(100, 100, 1)],
    ),
    "cgan_d_body": (fa.face_aging_cgan_discriminator_body, {}, 5_646_337, 5_646_337, [(1,)]),
    "cdcgan_g": (fa.face_aging_cdcgan_generator, {}, 2_921_603, 2_903_683, [(32, 32, 3)]),
    "cdcgan_d": (fa.face_aging_cdcgan_discriminator, {}, 1_844_097, 1_843_073, [(1,)]),
}


@functools.cache
def built(key: str) -> keras.Model:
    builder, kwargs, *_ = PUBLISHED[key]
    return builder(**kwargs)


def zeros_for(model: keras.Model, batch: int = 2):
    arrays = [
        np.zeros((batch, *t.shape[1:]), "int32" if "int" in str(t.dtype) else "float32")
        for t in model.inputs
    ]
    return arrays if len(arrays) > 1 else arrays[0]


def out_shapes(model: keras.Model) -> list[tuple]:
    return [tuple(t.shape[1:]) for t in model.outputs]


@pytest.mark.parametrize("key", list(PUBLISHED))
def test_published_parameter_counts_and_shapes(key):
    _, _, total, trainable, shapes = PUBLISHED[key]
    model = built(key)
    assert model.count_params() == total
    assert unique_params([model]) == total
    assert unique_params([model], trainable_only=True) == trainable
    assert out_shapes(model) == shapes


@pytest.mark.parametrize("key", list(PUBLISHED))
def test_forward_pass_on_zeros_is_finite(key):
    model = built(key)
    batch = 1 if key == "cyclegan_g" else 2
    y = np.asarray(model(zeros_for(model, batch), training=False))
    assert y.shape == (batch, *out_shapes(model)[0])
    assert y.dtype == np.float32
    assert np.all(np.isfinite(y))


def test_cgan_wrappers_add_the_label_embeddings():
    # G: Embedding(4, latent_dim) * z; D: Embedding(4, 100*100*1) * flat image (L932-934)
    g = fa.face_aging_cgan_generator()
    assert g.count_params() == 10_939_920 + 4 * 100 == 10_940_320
    assert g.get_layer("face_aging_cgan_generator_body").count_params() == 10_939_920
    assert [tuple(t.shape[1:]) for t in g.inputs] == [(100,), (1,)]
    assert out_shapes(g) == [(100, 100, 1)]
    d = fa.face_aging_cgan_discriminator()
    assert d.count_params() == 5_646_337 + 4 * 10_000 == 5_686_337
    assert d.get_layer("face_aging_cgan_discriminator_body").count_params() == 5_646_337
    assert out_shapes(d) == [(1,)]


def test_cgan_latent_120_option():
    # the first Dense grows from 100*256+256 = 25,856 to 120*256+256 = 30,976 (L938, L1146)
    body = fa.face_aging_cgan_generator_body(latent_dim=120)
    assert body.count_params() == 10_939_920 - 25_856 + 30_976 == 10_945_040
    assert unique_params([body], trainable_only=True) == 10_945_040 - 3_584
    g = fa.face_aging_cgan_generator(latent_dim=120)
    assert g.count_params() == 10_945_040 + 4 * 120 == 10_945_520


def test_cgan_label_changes_the_generated_image():
    g = fa.face_aging_cgan_generator()
    z = np.random.default_rng(0).normal(size=(4, 100)).astype(np.float32)
    z = np.repeat(z[:1], 4, axis=0)
    labels = np.arange(4, dtype=np.int32)[:, None]
    images = np.asarray(g([z, labels], training=False))
    assert images.shape == (4, 100, 100, 1)
    assert np.all(np.abs(images) <= 1.0)
    assert not np.allclose(images[0], images[1])  # same noise, different age class


def test_cyclegan_blocks_concatenate_and_grow_channels():
    g = built("cyclegan_g")
    concat = [layer for layer in g.layers if isinstance(layer, keras.layers.Concatenate)]
    assert [layer.output.shape[-1] for layer in concat] == [256 * k for k in range(2, 11)]
    convs = [layer for layer in g.layers if type(layer) is keras.layers.Conv2D]
    # first conv of block k reads 256k channels (L1347-1403)
    assert [c.count_params() for c in convs[3:-1:2]] == [
        9 * 256 * k * 256 + 256 for k in range(1, 10)
    ]


def test_instance_norm_is_group_norm_with_one_group_per_channel():
    g = fa.face_aging_cyclegan_generator(image_shape=(32, 32, 3), n_residual=1)
    norms = [layer for layer in g.layers if isinstance(layer, keras.layers.GroupNormalization)]
    assert len(norms) == 3 + 2 + 2 + 1
    for layer in norms:
        assert layer.groups == layer.gamma.shape[0]  # groups=-1 -> one group per channel
    x = np.random.default_rng(1).uniform(-1, 1, size=(2, 32, 32, 3)).astype(np.float32)
    first_norm = keras.Model(g.input, norms[0].output)
    h = np.asarray(first_norm(x))
    np.testing.assert_allclose(h.mean(axis=(1, 2)), 0.0, atol=1e-4)  # per sample and channel
    d = built("cyclegan_d")
    assert sum(isinstance(layer, keras.layers.GroupNormalization) for layer in d.layers) == 4


def test_cyclegan_additive_residual_ablation():
    g = fa.face_aging_cyclegan_generator(residual="add")
    # 21,233,664 fewer in the blocks' first convs, 2,654,208 fewer in the first ConvT
    assert g.count_params() == 35_276_553 - 589_824 * 36 - 9 * 2304 * 128 == 11_388_681
    assert out_shapes(g) == [(256, 256, 3)]
    with pytest.raises(BadOptionError, match="residual"):
        fa.face_aging_cyclegan_generator(residual="sum")


def test_cyclegan_discriminator_is_a_linear_patch_map():
    d = built("cyclegan_d")
    assert d.layers[-1].activation.__name__ == "linear"


@pytest.mark.parametrize("key", ["dcgan_d", "cgan_d_body", "cdcgan_d"])
def test_discriminators_end_in_sigmoid_unless_logits(key):
    builder, kwargs, total, *_ = PUBLISHED[key]
    assert built(key).layers[-1].activation.__name__ == "sigmoid"
    logit_model = builder(logits=True, **kwargs)
    assert logit_model.layers[-1].activation.__name__ == "linear"
    assert logit_model.count_params() == total


def test_cdcgan_text_dropout_is_optional_and_free():
    plain = built("cdcgan_d")
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in plain.layers)
    text = fa.face_aging_cdcgan_discriminator(dropout=0.4)
    assert any(isinstance(layer, keras.layers.Dropout) for layer in text.layers)
    assert text.count_params() == 1_844_097


def test_cdcgan_generator_upsamples_with_transposed_convs():
    g = built("cdcgan_g")
    ups = [layer for layer in g.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [tuple(layer.output.shape[1:]) for layer in ups] == [(16, 16, 128), (32, 32, 128)]
    assert [tuple(t.shape[1:]) for t in g.inputs] == [(100,), (4,)]


def test_dcgan_discriminator_pads_25_to_26():
    d = built("dcgan_d")
    pad = [layer for layer in d.layers if isinstance(layer, keras.layers.ZeroPadding2D)]
    assert len(pad) == 1 and tuple(pad[0].output.shape[1:]) == (26, 26, 64)
    assert tuple(d.get_layer(index=-2).output.shape[1:]) == (43_264,)


def test_outputs_stay_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g = fa.face_aging_cdcgan_generator()
        d = fa.face_aging_cgan_discriminator()
    finally:
        keras.config.set_dtype_policy(previous)
    assert g.outputs[0].dtype == "float32"
    assert d.outputs[0].dtype == "float32"
    y = np.asarray(g([np.zeros((1, 100), "float32"), np.eye(4, dtype="float32")[:1]]))
    assert y.dtype == np.float32 and np.all(np.isfinite(y))


def test_image_sizes_that_do_not_divide_are_refused():
    with pytest.raises(BadOptionError, match="multiples of 4"):
        fa.face_aging_dcgan_generator(image_shape=(30, 30, 1))
    with pytest.raises(BadOptionError, match="multiples of 16"):
        fa.face_aging_cyclegan_discriminator(image_shape=(100, 100, 3))
