"""The CycleGAN family's options for the two MNIST <-> USPS reports: the summed cycle loss at
Kasmi & Thimonier's lambda 0.045 against hand values, Keras-GAN's joint step against its loss
written out by hand, per-input calls for batch-norm networks, and the lambda options."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from gan_repro.errors import BadOptionError
from gan_repro.losses import bce_with_logits
from gan_repro.training.cyclegan import CycleGAN, CycleGANConfig, _mixes_batch, l1_distance


def test_summed_cycle_loss_at_lambda_0045_matches_a_hand_value():
    """Image 1 is off by 0.5 at 10 pixels (sum 5), image 2 by 1.0 at 4 pixels (sum 4): the
    per-image sum averaged over the batch is 4.5, so lambda * L_cyc = 0.045 * 4.5 = 0.2025;
    Keras' per-pixel mean would give 9 / (2 * 784) and a term 784 times smaller."""
    target = np.zeros((2, 28, 28, 1), np.float32)
    output = target.copy()
    output[0].flat[:10] = 0.5
    output[1].flat[100:104] = -1.0
    summed = float(l1_distance(output, target, "sum"))
    assert summed == pytest.approx(4.5)
    assert 0.045 * summed == pytest.approx(0.2025)
    assert float(l1_distance(output, target, "mean")) == pytest.approx(9.0 / (2 * 784))


def test_lambda_cycle_sets_both_cycle_weights_and_identity_ratio_scales_it():
    c = CycleGANConfig(lambda_cycle=30.0, identity_ratio=0.1)
    assert (c.forward_cycle_weight, c.backward_cycle_weight) == (30.0, 30.0)
    assert c.identity_weight == pytest.approx(3.0)  # Keras-GAN: lambda_id = 0.1 * lambda_cycle
    assert CycleGANConfig(lambda_cycle=0.0, identity_ratio=0.1).identity_weight == 0.0
    with pytest.raises(BadOptionError, match="identity_ratio needs lambda_cycle"):
        CycleGANConfig(identity_ratio=0.1)
    with pytest.raises(BadOptionError, match="update_order"):
        CycleGANConfig(update_order="random")


def test_batch_norm_networks_are_called_once_per_input():
    """Concatenating [A; B] into one call is exact only for per-image networks."""
    family = CycleGAN.for_inference(_config_28(), seed=0)
    assert _mixes_batch(family.models["g_ab"]) and not family._batchable["g_ab"]
    unet = CycleGANConfig(
        image_shape=(32, 32, 3),
        generator="mnist_usps_unet_generator",
        discriminator="mnist_usps_patch_discriminator",
    )
    assert CycleGAN.for_inference(unet, seed=0)._batchable == dict.fromkeys(
        ("g_ab", "g_ba", "d_a", "d_b"), True
    )


def _config_28(**kw):
    return CycleGANConfig(
        image_shape=(28, 28, 1),
        batch_size=4,
        pool_size=0,
        d_loss_weight=1.0,
        update_order="joint",
        adversarial="bce",
        cycle_reduction="sum",
        lambda_cycle=0.045,
        identity_weight=0.0,
        generator="mnist_usps_resblock_generator_28",
        discriminator="mnist_usps_conv_discriminator_28",
        **kw,
    )


def test_joint_step_is_the_combined_loss_written_out_by_hand():
    """One joint step on the 28x28 networks: the logged ``g_loss`` equals Eq 7 with BCE and the
    summed L1 (lambda 0.045) computed by hand from the generators as they were before the step
    and the discriminators as they were after their two updates each (the Keras-GAN order);
    ``d_loss`` is Keras-GAN's 0.5 * (0.5 (real + fake) A + 0.5 (real + fake) B)."""
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (8, 28, 28, 1), dtype=np.uint8) for _ in range(2))
    family = CycleGAN(_config_28(), a, b, seed=1)
    family.build()
    batch = next(iter(family.dataset(0)))
    m = family.models
    before = {k: m[k].get_weights() for k in ("g_ab", "g_ba")}
    logs = {k: float(v) for k, v in family.train_step(batch, 1).items()}
    for k, w in before.items():  # generators back to where the step started
        m[k].set_weights(w)
    real_a, real_b = batch["a"], batch["b"]
    fake_b, fake_a = m["g_ab"](real_a, training=True), m["g_ba"](real_b, training=True)
    expected = (
        bce_with_logits(1.0, m["d_b"](fake_b, training=True))
        + bce_with_logits(1.0, m["d_a"](fake_a, training=True))
        + 0.045 * _summed_l1(m["g_ba"](fake_b, training=True), real_a)
        + 0.045 * _summed_l1(m["g_ab"](fake_a, training=True), real_b)
    )
    assert logs["g_loss"] == pytest.approx(float(expected), rel=1e-5)
    d_terms = [logs[f"d{x}_{k}"] for x in "AB" for k in ("real", "fake")]
    assert logs["d_loss"] == pytest.approx(sum(d_terms) / 4, rel=1e-6)
    assert "identity_A" not in logs  # weight 0: not computed


def _summed_l1(x, y):
    return tf.reduce_mean(tf.reduce_sum(tf.abs(x - y), axis=[1, 2, 3]))
