"""The coupled family's runner-facing side: registration, networks by registry name, the
authors'-code options (spec 10) and the Fig 4.1 weight difference (L869-871, spec 5.4)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from omegaconf import OmegaConf

from gan_repro.errors import BadOptionError
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training import CoupledConfig, CoupledGAN, Trainer
from gan_repro.training.coupled import load_generators, weight_difference
from gan_repro.training.trainer import TrainerOptions


def tiny_generators(shared_layers=0, noise_dim=100, width=8, name="tiny_gen"):
    """A second coupled generator builder (test only): z -> Dense(width) -> Dense(32*32*3, tanh),
    the first ``shared_layers`` of the two Dense layers shared; returns ``[features, image]``."""
    if not 0 <= shared_layers <= 2:
        raise BadOptionError("tiny generators have 2 layers")

    def layers():
        return [
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(32 * 32 * 3, activation="tanh"),
        ]

    shared = layers()[:shared_layers]
    out = []
    for domain in (1, 2):
        stack = shared + layers()[shared_layers:]
        z = keras.Input((noise_dim,))
        h = stack[0](z)
        img = keras.layers.Reshape((32, 32, 3))(stack[1](h))
        out.append(keras.Model(z, [h, img], name=f"{name}_{domain}"))
    return out[0], out[1]


def tiny_discriminators(shared_layers=0, name="tiny_disc"):
    def layer():
        return keras.layers.Dense(1)

    shared = [layer()] if shared_layers else []
    out = []
    for domain in (1, 2):
        x = keras.Input((32, 32, 3))
        head = shared[0] if shared else layer()
        out.append(keras.Model(x, head(keras.layers.Flatten()(x)), name=f"{name}_{domain}"))
    return out[0], out[1]


NETWORKS.add("test_tiny_generators", tiny_generators, source="test only")
NETWORKS.add("test_tiny_discriminators", tiny_discriminators, source="test only")

TINY = dict(
    generators="test_tiny_generators",
    discriminators="test_tiny_discriminators",
    generator_options={"width": 8},
    discriminator_options={},
    batch_size=4,
    n_critic=2,
    fr_layers=1,
)


def images(n=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), np.uint8)


def options(steps):
    return TrainerOptions(steps=steps, progress=False, log_every=1, checkpoint_every=steps)


def test_family_is_registered_with_its_runner_interface():
    assert FAMILIES.get("coupled") is CoupledGAN
    assert CoupledGAN.Config is CoupledConfig
    assert CoupledGAN.inputs == ("domain1", "domain2")
    assert CoupledGAN.resources == ("classifier", "vgg")
    fam = CoupledGAN.from_inputs(
        CoupledConfig(**TINY), {"domain1": images(), "domain2": images(seed=1)}, seed=3
    )
    assert fam.seed == 3 and fam.classifier is None


def test_config_defaults_follow_the_authors_code_and_validate_as_structured_config():
    c = CoupledConfig()
    assert c.shared_update == "sequential" and c.encoder_training is False
    assert c.generator_options == {"use_firstlayer": False, "init": "xavier", "prelu": "element"}
    assert c.generators == "cogan_generators_32" and c.encoder == "cc_encoder_32"
    schema = OmegaConf.structured(CoupledConfig)  # plain field types only
    merged = OmegaConf.merge(schema, {"shared_update": "sum", "fr_weight": 100})
    assert CoupledConfig(**OmegaConf.to_container(merged)).fr_weight == 100.0
    with pytest.raises(BadOptionError, match="sequential"):
        CoupledConfig(shared_update="twice")


def test_a_second_coupled_builder_trains_through_the_family_unchanged(tmp_path):
    cfg = CoupledConfig(**TINY, fr_weight=1.0, shared_generator_layers=1)
    fam = CoupledGAN(cfg, images(), images(seed=1), seed=0)
    history = Trainer(fam, tmp_path, options(2)).fit()
    assert fam.models["g1"].name == "tiny_gen_1"
    assert fam.models["g1"].layers[1] is fam.models["g2"].layers[1]  # shared Dense(width)
    assert all(np.isfinite(v) for v in history.rows[-1].values())
    assert {"g1", "g2", "d1", "d2", "gp1", "fr"} <= set(history.rows[-1])
    # load_generators builds the same builder from config.json and restores the weights
    (tmp_path / "config.json").write_text(json.dumps({"model": cfg.as_dict()}))
    g1, g2, config, step = load_generators(tmp_path)
    assert step == 2 and config == cfg
    z = fam.fixed_z
    np.testing.assert_allclose(g2(z, training=False)[-1], fam.generate(z)[1], atol=1e-6)


def test_builder_options_it_does_not_take_are_refused_by_name():
    cfg = CoupledConfig(**{**TINY, "generator_options": {"prelu": "element"}})
    with pytest.raises(BadOptionError, match="prelu.*width"):
        CoupledGAN(cfg, images(), images()).build()


def test_legacy_config_json_reads_back_as_caffe_prelu():
    old = {k: v for k, v in CoupledConfig().as_dict().items() if not k.endswith("_options")}
    old.update(init="normal", use_firstlayer=False, dropout=0.5)
    for k in ("generators", "discriminators", "encoder", "shared_update", "encoder_training"):
        old.pop(k)
    cfg = CoupledConfig.from_dict(old)
    assert cfg.generator_options == {"use_firstlayer": False, "init": "normal", "prelu": "channel"}
    assert cfg.discriminator_options == {"init": "normal", "dropout": 0.5}
    assert cfg.shared_update == "sum"


def test_encoder_runs_in_inference_mode_by_default():
    """The authors call the CC encoder without a training flag (inference, dropout off;
    Listing 6.16): the CC term is then the same on two calls; with training=True the
    encoder's Dropout(0.4) makes it differ."""
    for flag, same in ((False, True), (True, False)):
        cfg = CoupledConfig(**TINY, cc_weight=1.0, encoder_training=flag)
        fam = CoupledGAN(cfg, images(), images(seed=1), seed=0)
        fam.build()
        z = tf.constant(fam.fixed_z[:4])
        real = (tf.zeros((4, 32, 32, 3)), tf.zeros((4, 32, 32, 3)))
        a = fam.generator_losses(z, real, 1)[1]["cc"]
        b = fam.generator_losses(z, real, 1)[1]["cc"]
        assert (float(a) == float(b)) is same, flag


def hand_weight_difference(g1, g2):
    return sum(
        float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))
        for a, b in zip(g1.trainable_variables, g2.trainable_variables, strict=True)
    )


def test_weight_difference_matches_a_hand_computation():
    g1, g2 = tiny_generators(shared_layers=1)
    # float32 means of up to 24,576 entries (TF vs numpy order): rel 1e-5
    assert float(weight_difference(g1, g2)) == pytest.approx(
        hand_weight_difference(g1, g2), rel=1e-5
    )
    # the shared Dense contributes exactly 0: only the second layer's kernel and bias count
    k1, b1 = (np.asarray(v) for v in g1.layers[2].weights)
    k2, b2 = (np.asarray(v) for v in g2.layers[2].weights)
    expected = np.mean((k1 - k2) ** 2) + np.mean((b1 - b2) ** 2)
    assert float(weight_difference(g1, g2)) == pytest.approx(float(expected), rel=1e-5)
    all1, all2 = tiny_generators(shared_layers=2)
    assert float(weight_difference(all1, all2)) == 0.0


@pytest.mark.parametrize("shared, positive", [(2, False), (1, True), (0, True)])
def test_weight_difference_is_logged_after_each_step(tmp_path, shared, positive):
    cfg = CoupledConfig(**TINY, shared_generator_layers=shared, log_weight_difference=True)
    fam = CoupledGAN(cfg, images(), images(seed=1), seed=0)
    history = Trainer(fam, tmp_path, options(2)).fit()
    logged = history.column("weight_diff")
    assert len(logged) == 2
    hand = hand_weight_difference(fam.models["g1"], fam.models["g2"])
    assert logged[-1] == pytest.approx(hand, rel=1e-5)  # the weights after step 2
    assert (logged[-1] > 0) is positive
    assert "weight_diff" in (tmp_path / "history.csv").read_text().splitlines()[0]


def test_default_cogan_pair_logs_a_positive_weight_difference_from_its_heads():
    cfg = CoupledConfig(
        batch_size=2, n_critic=1, shared_generator_layers=4, log_weight_difference=True
    )
    fam = CoupledGAN(cfg, images(), images(seed=1), seed=0)
    fam.build()
    g1, g2 = fam.models["g1"], fam.models["g2"]
    head1, head2 = g1.layers[-1], g2.layers[-1]
    expected = sum(
        float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))
        for a, b in zip(head1.weights, head2.weights, strict=True)
    )
    assert float(weight_difference(g1, g2)) == pytest.approx(expected, rel=1e-5) and expected > 0
