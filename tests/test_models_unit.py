"""CycleGAN (Zhu ResNet G, PatchGAN D, three-layer D) and UNIT builders of spec 003 sections 1.1
and 1.2, and the PyTorch-port layers they use (reflection padding, InstanceNorm2d, Conv2d /
ConvTranspose2d padding).

The pinned counts are derived layer by layer in the docstrings of
:mod:`gan_repro.models.cyclegan_resnet` and :mod:`gan_repro.models.unit`; every parameter is
trainable (parameter-free instance norm, no batch norm). Counts are checked on models built at
256x256 (symbolic only); forward passes run at 32x32 or 64x64 to stay fast.
"""

import functools

import keras
import numpy as np
import pytest

from gan_repro.errors import BadOptionError
from gan_repro.models import cyclegan_resnet as cr
from gan_repro.models import unit as un
from gan_repro.models.layers import (
    ReflectionPadding2D,
    instance_norm_torch,
    torch_conv,
    torch_conv_transpose,
    torch_conv_transpose_length,
)
from gan_repro.models.registry import unique_params
from gan_repro.registry import NETWORKS

FULL = (256, 256, 3)
INS_RES_BLOCK = 2 * (9 * 256 * 256 + 256)  # 1,180,160


@functools.cache
def cyclegan(key: str, image_shape: tuple = FULL) -> keras.Model:
    if key == "g9":
        return cr.cyclegan_resnet_generator(image_shape)
    if key == "g6":
        return cr.cyclegan_resnet_generator(image_shape, n_residual=6)
    if key == "patch":
        return cr.cyclegan_patch_discriminator(image_shape)
    return cr.cyclegan_three_layer_discriminator(image_shape)


@functools.cache
def unit_pair(image_shape: tuple = FULL) -> tuple:
    return un.unit_vae_pair(image_shape)


@functools.cache
def unit_ds(share: bool = True, image_shape: tuple = FULL) -> tuple:
    return un.unit_discriminators(image_shape, share=share)


def out_shape(model: keras.Model) -> tuple:
    return tuple(model.output_shape[1:])


def var_ids(model: keras.Model) -> set:
    return {id(v) for v in model.variables}


def layer_var_ids(model: keras.Model, prefix: str) -> set:
    return {id(v) for la in model.layers if la.name.startswith(prefix) for v in la.weights}


# --------------------------------------------------------------------------------------------
# counts and shapes at 256
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, total, out",
    [
        ("g9", 11_378_179, (256, 256, 3)),
        ("g6", 7_837_699, (256, 256, 3)),
        ("patch", 2_764_737, (30, 30, 1)),
        ("three", 662_977, (31, 31, 1)),
    ],
)
def test_cyclegan_counts_and_output_shapes_at_256(key, total, out):
    model = cyclegan(key)
    assert model.count_params() == total
    assert unique_params([model]) == total
    assert unique_params([model], trainable_only=True) == total
    assert out_shape(model) == out


def test_cyclegan_generator_count_by_part():
    g = cyclegan("g9")

    def params(*names):
        return sum(g.get_layer(n).count_params() for n in names)

    assert params("c7s1_conv") == 9_472
    assert params("d1_conv") == 73_856 and params("d2_conv") == 295_168
    assert params("res1_1_conv", "res1_2_conv") == INS_RES_BLOCK
    assert params("u1_convT") == 295_040 and params("u2_convT") == 73_792
    assert params("out_conv") == 9_411
    sides = [g.get_layer(n).output.shape[1:] for n in ("c7s1_relu", "d1_relu", "d2_relu")]
    assert [tuple(s) for s in sides] == [(256, 256, 64), (128, 128, 128), (64, 64, 256)]
    ups = [tuple(g.get_layer(n).output.shape[1:]) for n in ("u1_relu", "u2_relu")]
    assert ups == [(128, 128, 128), (256, 256, 64)]


def test_cyclegan_generator_structure_is_zhus():
    g = cyclegan("g9")
    norms = [la for la in g.layers if isinstance(la, keras.layers.GroupNormalization)]
    assert len(norms) == 5 + 2 * 9  # c7s1, d128, d256, u128, u64, 2 per block; none at the end
    assert all(not la.weights and la.epsilon == 1e-5 for la in norms)  # IN without affine
    pads = [la for la in g.layers if isinstance(la, ReflectionPadding2D)]
    assert [la.padding for la in pads] == [3] + [1] * 18 + [3]
    convs = [
        la for la in g.layers if isinstance(la, keras.layers.Conv2D | keras.layers.Conv2DTranspose)
    ]
    assert all(la.use_bias and la.padding == "valid" for la in convs)
    # the residual sum is not followed by a ReLU: it feeds the next block's reflection pad
    add = g.get_layer("res1_add")
    consumers = {n.operation.name for n in add._outbound_nodes}
    assert consumers == {"res2_reflect1", "res2_add"}
    assert g.get_layer("u1_convT").input.shape[1:] == (64, 64, 256)


def test_patch_discriminator_structure_is_zhus():
    d = cyclegan("patch")
    norms = [la.name for la in d.layers if isinstance(la, keras.layers.GroupNormalization)]
    assert norms == ["d2_in", "d3_in", "d4_in"]  # none after the first conv
    strides = [la.strides for la in d.layers if isinstance(la, keras.layers.Conv2D)]
    assert strides == [(2, 2)] * 3 + [(1, 1)] * 2
    relus = [la for la in d.layers if isinstance(la, keras.layers.LeakyReLU)]
    assert len(relus) == 4 and all(la.negative_slope == 0.2 for la in relus)
    sides = [d.get_layer(f"d{i}_lrelu").output.shape[1] for i in (1, 2, 3, 4)]
    assert sides == [128, 64, 32, 31]
    three = cyclegan("three")
    assert not any(isinstance(la, keras.layers.GroupNormalization) for la in three.layers)
    assert sum(isinstance(la, keras.layers.ReLU) for la in three.layers) == 3


def test_unit_vae_pair_counts_and_shapes_at_256():
    ea, eb, da, db = unit_pair()
    assert [m.name for m in (ea, eb, da, db)] == [
        "unit_encoder_a",
        "unit_encoder_b",
        "unit_decoder_a",
        "unit_decoder_b",
    ]
    assert ea.count_params() == eb.count_params() == 5_099_136
    assert da.count_params() == db.count_params() == 5_089_667
    assert unique_params([ea, eb, da, db]) == 18_017_286
    assert unique_params([ea, eb, da, db], trainable_only=True) == 18_017_286
    # private parts: 3,918,976 per encoder, 3,909,507 per decoder
    private_enc = sum(la.count_params() for la in ea.layers if la.name.startswith("enc_a_"))
    private_dec = sum(la.count_params() for la in da.layers if la.name.startswith("dec_a_"))
    assert private_enc == 3_918_976 and private_dec == 3_909_507
    assert out_shape(ea) == out_shape(eb) == (64, 64, 256)
    assert tuple(da.input_shape[1:]) == (64, 64, 256)
    assert out_shape(da) == out_shape(db) == FULL


def test_unit_discriminator_counts_and_shapes_at_256():
    d_a, d_b = unit_ds(True)
    assert (d_a.name, d_b.name) == ("unit_d_a", "unit_d_b")
    assert d_a.count_params() == d_b.count_params() == 83_328 + 25_073_409
    assert unique_params([d_a, d_b]) == 25_240_065
    assert unique_params([d_a, d_b], trainable_only=True) == 25_240_065
    front = sum(la.count_params() for la in d_a.layers if la.name.startswith("a_front"))
    assert front == 83_328
    assert out_shape(d_a) == out_shape(d_b) == (4, 4, 1)
    sides = [d_a.get_layer(f"a_front{i}_lrelu").output.shape[1:] for i in (1, 2)]
    sides += [d_a.get_layer(f"trunk{i}_lrelu").output.shape[1:] for i in (1, 2, 3, 4)]
    assert [tuple(s) for s in sides] == [
        (128, 128, 64),
        (64, 64, 128),
        (32, 32, 256),
        (16, 16, 512),
        (8, 8, 1024),
        (4, 4, 2048),
    ]
    s_a, s_b = unit_ds(False)
    assert s_a.count_params() == s_b.count_params() == 25_156_737
    assert unique_params([s_a, s_b]) == 50_313_474


# --------------------------------------------------------------------------------------------
# sharing
# --------------------------------------------------------------------------------------------


def test_unit_shared_blocks_are_the_same_variables():
    ea, eb, da, db = unit_pair()
    shared_enc = layer_var_ids(ea, "enc_shared")
    assert shared_enc and var_ids(ea) & var_ids(eb) == shared_enc
    assert shared_enc == layer_var_ids(eb, "enc_shared")
    assert sum(v.numpy().size for v in ea.variables if id(v) in shared_enc) == INS_RES_BLOCK
    assert ea.get_layer("enc_shared1_1_conv") is eb.get_layer("enc_shared1_1_conv")
    shared_dec = layer_var_ids(da, "dec_shared")
    assert shared_dec and var_ids(da) & var_ids(db) == shared_dec
    assert sum(v.numpy().size for v in da.variables if id(v) in shared_dec) == INS_RES_BLOCK
    assert not (var_ids(ea) | var_ids(eb)) & (var_ids(da) | var_ids(db))
    # the shared block is the encoder's last layer and the decoder's first
    assert ea.layers[-1].name == "enc_shared1_add"
    assert da.layers[1].name.startswith("dec_shared1_")


def test_unit_discriminator_trunk_shared_only_when_asked():
    d_a, d_b = unit_ds(True)
    trunk = layer_var_ids(d_a, "trunk") | layer_var_ids(d_a, "logits")
    assert var_ids(d_a) & var_ids(d_b) == trunk
    assert sum(v.numpy().size for v in d_a.variables if id(v) in trunk) == 25_073_409
    s_a, s_b = unit_ds(False)
    assert not var_ids(s_a) & var_ids(s_b)
    # n_shared=0: the 1x1 logit conv sits in each front (the code's add_classifier_layer)
    z_a, z_b = un.unit_discriminators((64, 64, 3), n_shared=0)
    assert not var_ids(z_a) & var_ids(z_b) and out_shape(z_a) == (16, 16, 1)


# --------------------------------------------------------------------------------------------
# forward passes at small sizes
# --------------------------------------------------------------------------------------------


def test_cyclegan_forward_at_32():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    y = np.asarray(cyclegan("g9", (32, 32, 3))(x, training=False))
    assert y.shape == (2, 32, 32, 3) and y.dtype == np.float32
    assert np.all(np.isfinite(y)) and np.all(np.abs(y) <= 1.0) and y.std() > 0
    for key, side in (("patch", 2), ("three", 3)):
        s = np.asarray(cyclegan(key, (32, 32, 3))(x))
        assert s.shape == (2, side, side, 1) and np.all(np.isfinite(s))


def test_unit_forward_at_32_and_64():
    rng = np.random.default_rng(1)
    ea, eb, da, db = unit_pair((32, 32, 3))
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    mu = np.asarray(ea(x))
    assert mu.shape == (2, 8, 8, 256) and mu.dtype == np.float32 and np.all(np.isfinite(mu))
    z = mu + rng.normal(size=mu.shape).astype(np.float32)  # the family's noise, outside
    for decoder in (da, db):
        y = np.asarray(decoder(z))
        assert y.shape == (2, 32, 32, 3) and y.dtype == np.float32
        assert np.all(np.abs(y) <= 1.0) and y.std() > 0
    assert np.asarray(eb(x)).shape == (2, 8, 8, 256)
    d_a, d_b = unit_ds(True, (64, 64, 3))
    x64 = rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    for d in (d_a, d_b):
        logits = np.asarray(d(x64))
        assert logits.shape == (2, 1, 1, 1) and logits.dtype == np.float32
    # same trunk, different fronts: different logits for the same images
    assert not np.allclose(np.asarray(d_a(x64)), np.asarray(d_b(x64)))


def test_outputs_stay_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g = cr.cyclegan_resnet_generator((32, 32, 3), n_residual=1, ngf=8)
        d = cr.cyclegan_patch_discriminator((32, 32, 3), ndf=8)
        ea, _, da, _ = un.unit_vae_pair((32, 32, 3), ch=8, n_enc_res=1, n_gen_res=1)
        d_a, _ = un.unit_discriminators((64, 64, 3), ch=8)
    finally:
        keras.config.set_dtype_policy(previous)
    assert g.get_layer("c7s1_conv").compute_dtype == "bfloat16"
    for model in (g, d, ea, da, d_a):
        assert model.outputs[0].dtype == "float32", model.name
    x = np.zeros((1, 32, 32, 3), np.float32)
    y = np.asarray(da(ea(x)))
    assert y.dtype == np.float32 and np.all(np.isfinite(y))


# --------------------------------------------------------------------------------------------
# PyTorch-port layers
# --------------------------------------------------------------------------------------------


def test_reflection_padding_equals_numpy_reflect():
    x = np.arange(2 * 5 * 6 * 3, dtype=np.float32).reshape(2, 5, 6, 3)
    for p in (1, 3):
        layer = ReflectionPadding2D(p)
        y = np.asarray(layer(x))
        np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), "reflect"))
        assert layer.compute_output_shape((None, 5, None, 3)) == (None, 5 + 2 * p, None, 3)
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(ReflectionPadding2D(2, name="rp"))
    )
    assert isinstance(clone, ReflectionPadding2D) and clone.padding == 2


def test_instance_norm_torch_is_inorm2d_without_affine():
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(3, 6, 5, 4)) * np.array([0.01, 1, 5, 20]) + 3).astype(np.float32)
    layer = instance_norm_torch()
    y = np.asarray(layer(x))
    assert not layer.weights
    xd = x.astype(np.float64)
    mean = xd.mean(axis=(1, 2), keepdims=True)
    var = xd.var(axis=(1, 2), keepdims=True)  # biased, as PyTorch
    np.testing.assert_allclose(y, (xd - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)


def torch_conv_transpose_reference(x, kernel, bias, s, p, op):
    """PyTorch ConvTranspose2d on one NHWC image; ``kernel`` in Keras layout (k, k, out, in):
    input (i, j) through tap (a, b) lands at full position (s i + a, s j + b), kept at
    (s i + a - p, s j + b - p) when inside the output."""
    n, _, _ = x.shape
    k, _, c_out, _ = kernel.shape
    length = s * (n - 1) + k - 2 * p + op
    out = np.zeros((length, length, c_out)) + bias
    for i in range(n):
        for j in range(n):
            for a in range(k):
                for b in range(k):
                    r, c = s * i + a - p, s * j + b - p
                    if 0 <= r < length and 0 <= c < length:
                        out[r, c] += kernel[a, b] @ x[i, j]
    return out


@pytest.mark.parametrize(
    "k, s, p, op",
    [
        (3, 2, 1, 1),
        (3, 2, 1, 0),
        (4, 2, 1, 0),
        (3, 2, 0, 1),
        (1, 1, 0, 0),
        (5, 3, 2, 2),
        (1, 2, 0, 1),
    ],
)
def test_torch_conv_transpose_matches_pytorch_reference(k, s, p, op):
    rng = np.random.default_rng(k * 100 + s * 10 + p + op)
    x = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    chain = torch_conv_transpose(3, k, s, padding=p, output_padding=op)
    y = np.asarray(chain(x))
    assert y.shape == (1, *(2 * (torch_conv_transpose_length(4, k, s, p, op),)), 3)
    conv = chain.layers[0]
    bias = rng.normal(size=3).astype(np.float32)  # nonzero, to see the bias-only rows
    conv.bias.assign(bias)
    y = np.asarray(chain(x))
    expected = torch_conv_transpose_reference(x[0], conv.kernel.numpy(), bias, s, p, op)
    np.testing.assert_allclose(y[0], expected, rtol=1e-5, atol=1e-5)


def test_transposed_conv_delta_lands_at_2i_plus_k_minus_1():
    """k3 s2 p1 op1: input pixel i through kernel tap j lands at output 2i + j - 1 (PyTorch)."""
    chain = torch_conv_transpose(1, 3, 2, padding=1, output_padding=1)
    chain(np.zeros((1, 4, 4, 1), np.float32))  # build
    conv = chain.layers[0]
    for tap in range(3):
        kernel = np.zeros((3, 3, 1, 1), np.float32)
        kernel[tap, tap] = 1.0
        conv.kernel.assign(kernel)
        for i in range(4):
            x = np.zeros((1, 4, 4, 1), np.float32)
            x[0, i, 3 - i, 0] = 1.0
            y = np.asarray(chain(x))[0, :, :, 0]
            assert y.shape == (8, 8)
            hits = {tuple(int(v) for v in idx) for idx in np.argwhere(y)}
            row, col = 2 * i + tap - 1, 2 * (3 - i) + tap - 1
            assert hits == ({(row, col)} if 0 <= row < 8 and 0 <= col < 8 else set())


def test_torch_conv_matches_pytorch_padding():
    """Conv2d(k4, s2, p1) on 6x6: output floor((6 + 2 - 4) / 2) + 1 = 3, and output (r, c)
    reads the zero-padded input at rows 2r - 1 .. 2r + 2 (Keras 'same' would pad 1 / 2)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 6, 6, 2)).astype(np.float32)
    chain = torch_conv(3, 4, stride=2, padding=1)
    y = np.asarray(chain(x))[0]
    kernel = chain.layers[-1].kernel.numpy()
    padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    expected = np.zeros((3, 3, 3))
    for r in range(3):
        for c in range(3):
            window = padded[2 * r : 2 * r + 4, 2 * c : 2 * c + 4]
            expected[r, c] = np.einsum("abi,abio->o", window, kernel)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    assert [type(la).__name__ for la in chain.layers] == ["ZeroPadding2D", "Conv2D"]
    assert np.std(kernel) == pytest.approx(0.02, rel=0.5)  # N(0, 0.02)


# --------------------------------------------------------------------------------------------
# registry and refusals
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs, counts",
    [
        ("cyclegan_resnet_generator", {"image_shape": (32, 32, 3)}, [11_378_179]),
        ("cyclegan_patch_discriminator", {"image_shape": (32, 32, 3)}, [2_764_737]),
        ("cyclegan_three_layer_discriminator", {"image_shape": (32, 32, 3)}, [662_977]),
        ("unit_vae_pair", {"image_shape": (32, 32, 3)}, [5_099_136] * 2 + [5_089_667] * 2),
        ("unit_discriminators", {"image_shape": (64, 64, 3)}, [25_156_737] * 2),
    ],
)
def test_registered_by_name(name, kwargs, counts):
    assert name in NETWORKS.names() and NETWORKS.entry(name).source
    built = NETWORKS.build(name, **kwargs)
    models = built if isinstance(built, tuple) else (built,)
    assert [m.count_params() for m in models] == counts


def test_bad_sizes_and_options_are_refused():
    with pytest.raises(BadOptionError, match="multiples of 4"):
        cr.cyclegan_resnet_generator((30, 30, 3))
    with pytest.raises(BadOptionError, match="too small"):
        cr.cyclegan_patch_discriminator((16, 16, 3))
    with pytest.raises(BadOptionError, match="too small"):
        cr.cyclegan_three_layer_discriminator((8, 8, 3))
    with pytest.raises(BadOptionError, match="multiples of 4"):
        un.unit_vae_pair((30, 32, 3))
    with pytest.raises(BadOptionError, match="multiples of 8"):
        un.unit_vae_pair((36, 36, 3), n_enc_front=4, n_gen_front=4)
    with pytest.raises(BadOptionError, match="n_gen_front"):
        un.unit_vae_pair((32, 32, 3), n_gen_front=2)
    with pytest.raises(BadOptionError, match="multiples of 64"):
        un.unit_discriminators((32, 32, 3))
    with pytest.raises(BadOptionError, match="multiples of 16"):
        un.unit_discriminators((40, 40, 3), n_front=2, n_shared=2)
    with pytest.raises(BadOptionError, match="ch"):
        un.unit_vae_pair((32, 32, 3), ch=0)
    with pytest.raises(ValueError, match="output_padding"):
        torch_conv_transpose(8, 3, 2, padding=1, output_padding=2)
