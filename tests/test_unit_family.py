"""The UNIT family (Liu et al. 2017 as the 2017 code trains it; CycleGAN-vs-UNIT thesis section
6.2.2): every loss term against a value computed by hand from the networks' own outputs, the
weights 10, 0.1, 100, 0.1, 100, the paper's objective as an option, the shared layers trained as
one set of variables, PyTorch's L2 weight decay, and the latent noise keyed by example."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import test_family_contract  # noqa: F401  (registers the contract's tiny UNIT networks)

import gan_repro.catalog  # noqa: F401
from gan_repro.errors import BadOptionError
from gan_repro.training.unit import UNIT, UNITConfig, latent_kl, mean_l1

SHAPE = (8, 8, 3)


def _family(**config) -> UNIT:
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (6, *SHAPE), dtype=np.uint8) for _ in range(2))
    c = UNITConfig(
        image_shape=SHAPE,
        batch_size=2,
        generator="contract_unit_pair",  # UNIT in miniature: one shared conv in E, G and D
        discriminator="contract_unit_critics",
        **config,
    )
    family = UNIT(c, a, b, seed=5)
    keras.utils.set_random_seed(1)
    family.build()
    return family


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    a, b = (tf.constant(rng.uniform(-1, 1, (2, *SHAPE)), tf.float32) for _ in range(2))
    return a, b, tf.constant([7, 8], tf.int64)


def _bce_ones(logits):
    """-log sigmoid(l), averaged: BCE against target 1, by hand."""
    return float(np.mean(np.log1p(np.exp(-np.asarray(logits, np.float64)))))


def test_the_code_weights_and_refusals():
    c = UNITConfig()
    assert (c.gan_weight, c.kl_direct_weight, c.recon_weight) == (10.0, 0.1, 100.0)
    assert (c.kl_cycle_weight, c.cycle_weight, c.lr, c.beta_1, c.beta_2) == (
        0.1,
        100.0,
        1e-4,
        0.5,
        0.999,
    )
    assert (c.weight_decay, c.batch_size, c.objective, c.adversarial) == (1e-4, 1, "code", "bce")
    with pytest.raises(BadOptionError, match="objective"):
        UNITConfig(objective="thesis")


def test_kl_terms_by_hand():
    z = tf.constant([[1.0, -2.0], [3.0, 0.5]])
    assert float(latent_kl(z)) == pytest.approx((1 + 4 + 9 + 0.25) / 4)  # the code's mean(z^2)
    assert float(latent_kl(z, analytic=True)) == pytest.approx(0.5 * (1 + 4 + 9 + 0.25) / 4)
    assert float(mean_l1(tf.zeros((2, 2)), z)) == pytest.approx((1 + 2 + 3 + 0.5) / 4)


@pytest.mark.parametrize("objective", ["code", "paper"])
def test_every_generator_term_and_the_total_against_hand_values(objective):
    """Each term recomputed in NumPy from separate calls of the networks: which image goes to
    which discriminator, which latent each KL takes, which reconstruction each L1 compares."""
    family = _family(objective=objective)
    m = family.models
    a, b, index = _batch()
    terms = {k: float(v) for k, v in family.generator_terms(a, b, index).items()}
    eps = [np.asarray(family.noise(index, k)) for k in range(6)]
    mu_a, mu_b = np.asarray(m["enc_a"](a)), np.asarray(m["enc_b"](b))
    z_a, z_b = mu_a + eps[2], mu_b + eps[3]
    x_aa, x_ba = np.asarray(m["gen_a"](z_a)), np.asarray(m["gen_a"](z_b))
    x_ab, x_bb = np.asarray(m["gen_b"](z_a)), np.asarray(m["gen_b"](z_b))
    mu_ba, mu_ab = np.asarray(m["enc_a"](x_ba)), np.asarray(m["enc_b"](x_ab))
    z_ba, z_ab = mu_ba + eps[4], mu_ab + eps[5]
    x_bab, x_aba = np.asarray(m["gen_b"](z_ba)), np.asarray(m["gen_a"](z_ab))

    def kl(z, mu):
        return 0.5 * np.mean(mu**2) if objective == "paper" else np.mean(z**2)

    a, b = np.asarray(a), np.asarray(b)
    hand = {
        "gan_A": _bce_ones(m["d_a"](x_ba)),  # D_A judges B translated into A
        "gan_B": _bce_ones(m["d_b"](x_ab)),
        "kl_A": kl(z_a, mu_a),
        "kl_B": kl(z_b, mu_b),
        "recon_A": np.mean(np.abs(x_aa - a)),
        "recon_B": np.mean(np.abs(x_bb - b)),
        "kl_cycle_AB": kl(z_ab, mu_ab),
        "kl_cycle_BA": kl(z_ba, mu_ba),
        "cycle_A": np.mean(np.abs(x_aba - a)),
        "cycle_B": np.mean(np.abs(x_bab - b)),
    }
    assert terms == pytest.approx(hand, rel=1e-4, abs=1e-6)
    kl_direct = 0.1 + (0.1 if objective == "paper" else 0.0)  # Eq 5's lambda_3 KL(q(z|x))
    total = (
        10 * (hand["gan_A"] + hand["gan_B"])
        + kl_direct * (hand["kl_A"] + hand["kl_B"])
        + 100 * (hand["recon_A"] + hand["recon_B"])
        + 0.1 * (hand["kl_cycle_AB"] + hand["kl_cycle_BA"])
        + 100 * (hand["cycle_A"] + hand["cycle_B"])
    )
    t = family.generator_terms(a, b, index)
    assert float(family.generator_total(t)) == pytest.approx(total, rel=1e-5)


def test_the_discriminator_loss_against_hand_values():
    """lambda_0 * (BCE(D_A(a), 1) + BCE(D_A(x_ba), 0) + BCE(D_B(b), 1) + BCE(D_B(x_ab), 0)),
    with the translations from the noise draws 0 and 1 of the step."""
    family = _family(weight_decay=0.0, lr=0.0)
    m = family.models
    a, b, index = _batch(1)
    x_ab = m["gen_b"](m["enc_a"](a) + family.noise(index, 0))
    x_ba = m["gen_a"](m["enc_b"](b) + family.noise(index, 1))

    def bce_zeros(logits):
        return float(np.mean(np.log1p(np.exp(np.asarray(logits, np.float64)))))

    real_a, fake_a = _bce_ones(m["d_a"](a)), bce_zeros(m["d_a"](x_ba))
    real_b, fake_b = _bce_ones(m["d_b"](b)), bce_zeros(m["d_b"](x_ab))
    logs = family._discriminator_update(a, b, index, 1)
    assert float(logs["dA_real"]) == pytest.approx(real_a, rel=1e-5)
    assert float(logs["dA_fake"]) == pytest.approx(fake_a, rel=1e-5)
    assert float(logs["dB_fake"]) == pytest.approx(fake_b, rel=1e-5)
    assert float(logs["d_loss"]) == pytest.approx(10 * (real_a + fake_a + real_b + fake_b), 1e-5)


def test_shared_layers_are_one_set_of_variables_in_one_optimizer():
    family = _family()
    m = family.models
    shared_enc = {id(v) for v in m["enc_a"].trainable_variables} & {
        id(v) for v in m["enc_b"].trainable_variables
    }
    assert len(shared_enc) == 2  # the shared conv's kernel and bias
    ids = [id(v) for v in family.g_variables]
    assert len(ids) == len(set(ids))  # each shared variable once in the Adam of E and G
    every = {id(v) for k in ("enc_a", "enc_b", "gen_a", "gen_b") for v in m[k].trainable_variables}
    assert set(ids) == every
    d_ids = [id(v) for v in family.d_variables]
    assert len(d_ids) == len(set(d_ids)) == 2 * 2 + 2  # two private convs, one shared


def test_weight_decay_is_pytorch_l2_on_the_gradient():
    """With every loss weight 0 the gradient is wd * w only, and Adam's first step moves each
    weight by lr against its sign (PyTorch's coupled L2, lr * g / (|g| + eps)); a decoupled
    decay would move it by lr * wd * w, a hundred times less here."""
    zero = dict(gan_weight=0.0, kl_direct_weight=0.0, recon_weight=0.0)
    family = _family(**zero, kl_cycle_weight=0.0, cycle_weight=0.0, lr=1e-3, weight_decay=0.5)
    before = [np.array(v) for v in family.g_variables]
    family._generator_update(*_batch(), 1)
    for v, w in zip(family.g_variables, before, strict=True):
        moved = np.array(v) - w
        big = np.abs(w) > 1e-3
        np.testing.assert_allclose(moved[big], -1e-3 * np.sign(w[big]), rtol=0.05, atol=1e-6)


def test_noise_is_a_function_of_the_example_and_the_draw():
    family = _family()
    n1 = np.asarray(family.noise(tf.constant([3, 4], tf.int64), 2))
    n2 = np.asarray(family.noise(tf.constant([4, 9], tf.int64), 2))
    np.testing.assert_array_equal(n1[1], n2[0])  # example 4: the same draw in any batch
    assert not np.allclose(n1[0], n1[1])
    assert not np.allclose(n1, np.asarray(family.noise(tf.constant([3, 4], tf.int64), 3)))
    assert n1.shape == (2, 4, 4, 4) and abs(n1.std() - 1.0) < 0.3


def test_translate_mean_shared_draw_and_per_image_draws():
    family = _family()
    x = np.repeat(_batch()[0][:1].numpy(), 3, axis=0)  # three identical inputs
    mean = family.translate(x, "AtoB")
    np.testing.assert_array_equal(mean, family.translate(x, "AtoB"))  # no noise: deterministic
    shared = family.translate(x, "AtoB", noise_seed=3)
    np.testing.assert_allclose(shared[0], shared[2], atol=1e-6)  # one draw for the figure
    assert not np.allclose(shared[0], mean[0])
    apart = family.translate(x, "AtoB", noise_seed=3, shared_noise=False)
    assert not np.allclose(apart[0], apart[1])  # a draw per image (the diversity protocol)
    recon = family.reconstruct(x, "A", noise_seed=3)
    assert recon.shape == x.shape and not np.allclose(recon, shared)
