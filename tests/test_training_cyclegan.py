"""The CycleGAN family for the runner: registered as FAMILIES["cyclegan"], trained on the named
inputs ``a``/``b``, its networks taken by NETWORKS name (any registered pair, no edits), and
rebuilt from a run folder's config.json alone (``for_inference``, ``load_run``, ``load_cyclegan``).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_repro.io import write_json
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training.cyclegan import CycleGAN, CycleGANConfig, load_cyclegan
from gan_repro.training.trainer import Trainer, TrainerOptions


@NETWORKS.register("test_tiny_cycle_generator", source="tests: a one-conv translator")
def tiny_generator(image_shape=(8, 8, 3), width: int = 4, name: str = "tiny_g"):
    x = keras.Input(image_shape)
    h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    y = keras.layers.Conv2D(image_shape[-1], 3, padding="same", activation="tanh")(h)
    return keras.Model(x, y, name=name)


@NETWORKS.register("test_tiny_cycle_discriminator", source="tests: a 2x2 patch critic")
def tiny_discriminator(image_shape=(8, 8, 3), name: str = "tiny_d"):
    x = keras.Input(image_shape)
    y = keras.layers.Conv2D(1, 4, strides=4, padding="same")(x)
    return keras.Model(x, y, name=name)


def _domains(n=6, size=8):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 128, (n, size, size, 3), dtype=np.uint8)
    b = rng.integers(128, 256, (n, size, size, 3), dtype=np.uint8)
    return a, b


def test_cyclegan_is_registered_with_the_thesis_networks_by_name():
    assert FAMILIES.get("cyclegan") is CycleGAN
    assert CycleGAN.Config is CycleGANConfig and CycleGAN.inputs == ("a", "b")
    config = CycleGANConfig(image_shape=(16, 16, 3), n_residual=1)
    assert config.generator == "face_aging_cyclegan_generator"
    assert config.discriminator == "face_aging_cyclegan_discriminator"
    family = CycleGAN.for_inference(config, seed=0)  # the models from the config alone
    assert {k: m.name for k, m in family.models.items()} == {
        "g_ab": "g_AtoB",
        "g_ba": "g_BtoA",
        "d_a": "d_A",
        "d_b": "d_B",
    }
    assert family.models["d_a"].count_params() == 6_962_369  # Fig A.5 at any resolution
    # n_residual reaches the thesis generator (one concatenating block: 512 channels after it)
    concat = [layer for layer in family.models["g_ab"].layers if "concatenate" in layer.name]
    assert len(concat) == 1


def test_cyclegan_trains_any_registered_pair_and_reloads_from_its_folder(tmp_path):
    """A tiny registered pair (no n_residual/residual parameters: they are passed only to a
    builder that takes them) trains through from_inputs, and the run folder reloads."""
    from gan_repro.runner import load_run

    config = CycleGANConfig(
        image_shape=(8, 8, 3),
        pool_size=2,
        generator="test_tiny_cycle_generator",
        discriminator="test_tiny_cycle_discriminator",
        generator_options={"width": 3},
    )
    a, b = _domains()
    family = CycleGAN.from_inputs(config, {"a": a, "b": b}, seed=1)
    options = TrainerOptions(steps=2, log_every=1, checkpoint_every=2, sample_every=1)
    Trainer(family, tmp_path, options).fit()  # builds the models
    assert family.models["g_ab"].count_params() == 2 * (3 * 3 * 3 * 3 + 3)  # width 3 reached it
    write_json(
        tmp_path / "config.json",
        {"family": "cyclegan", "model": config.as_dict(), "trainer": vars(options) | {"seed": 1}},
    )
    faces = a[:3]
    expected = family.translate(faces, "AtoB")
    for loaded, step in (load_run(tmp_path), load_cyclegan(tmp_path)):
        assert step == 2 and isinstance(loaded, CycleGAN)
        assert loaded.models["g_ab"].name == "g_AtoB"
        np.testing.assert_allclose(loaded.translate(faces, "AtoB"), expected, atol=1e-6)
    with_data, _ = load_cyclegan(tmp_path, a, b)  # the restore helper with domains still works
    np.testing.assert_allclose(with_data.translate(faces, "AtoB"), expected, atol=1e-6)


def test_zhu_learning_rate_is_held_then_decays_linearly_to_zero():
    """Zhu et al.'s ``lr_policy linear``: the base rate for the first half, then linearly to 0
    (per training step; a discriminator with two updates per step counts them as one)."""
    from gan_repro.training.cyclegan import HoldThenLinearDecay, hold_then_linear_decay

    lr = HoldThenLinearDecay(2e-4, hold=100, decay=100)
    values = [float(lr(tf.constant(s))) for s in (0, 99, 100, 150, 199, 200, 300)]
    assert values == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4, 2e-6, 0.0, 0.0])
    two = HoldThenLinearDecay(2e-4, hold=100, decay=100, per_step=2)
    assert float(two(tf.constant(300))) == pytest.approx(1e-4)  # update 300 = step 150
    assert hold_then_linear_decay(2e-4, 5, 0) == 2e-4  # no decay: a constant rate
