"""The trainer core: exact resume, divergence handling, gradient routing, replicas, learning."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_repro.errors import BadOptionError, TrainingDivergedError
from gan_repro.models.classifiers import digit_classifier_b1
from gan_repro.training import CoupledConfig, CoupledGAN, Family, GradientRouter, Trainer
from gan_repro.training.trainer import TrainerOptions


def digits(n=64, seed=0):
    """Small synthetic 'digit' images: a bright stroke on black, uint8 [n,32,32,3]."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 32, 32, 3), np.uint8)
    for i in range(n):
        r = rng.integers(6, 26)
        x[i, r - 2 : r + 2, 6:26] = 255
    return x


def coupled(config, seed=3):
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)  # the frozen classifier is not checkpointed: build it alike
    classifier = digit_classifier_b1() if config.sl_weight > 0 else None
    return CoupledGAN(
        config,
        digits(seed=seed),
        rng.integers(0, 256, (64, 32, 32, 3), np.uint8),
        seed=seed,
        classifier=classifier,
    )


def options(steps, **kw):
    kw.setdefault("log_every", 1)
    kw.setdefault("checkpoint_every", 2)
    kw.setdefault("sample_every", 100)
    return TrainerOptions(steps=steps, progress=False, **kw)


SMALL = dict(batch_size=4, n_critic=2, sl_weight=10.0, cc_weight=10.0, fr_weight=100.0)


def test_stopped_and_resumed_run_gives_the_same_history(tmp_path):
    full = Trainer(coupled(CoupledConfig(**SMALL)), tmp_path / "full", options(4)).fit()
    Trainer(coupled(CoupledConfig(**SMALL)), tmp_path / "cut", options(2)).fit()
    resumed_trainer = Trainer(coupled(CoupledConfig(**SMALL)), tmp_path / "cut", options(4))
    resumed = resumed_trainer.fit()
    assert [r["step"] for r in resumed.rows] == [1, 2, 3, 4]
    for a, b in zip(full.rows, resumed.rows, strict=True):
        assert a.keys() == b.keys()
        np.testing.assert_allclose(list(a.values()), list(b.values()), rtol=1e-6, atol=1e-7)
    # the CSV on disk describes the one run, with no duplicated rows after the resume
    lines = (tmp_path / "cut" / "history.csv").read_text().strip().splitlines()
    assert len(lines) == 5
    assert resumed_trainer.state.latest.endswith("ckpt-4")


class Drifting(Family):
    """w climbs by 0.5 a step under SGD; the logged loss log(2 - w) is -inf at step 4."""

    def build(self):
        self.w = keras.Variable(0.0)
        inp = keras.Input((1,))
        layer = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")
        self.models = {"m": keras.Model(inp, layer(inp))}
        self.optimizers = {"m": keras.optimizers.SGD(0.5)}
        self.optimizers["m"].build(self.models["m"].trainable_variables)

    def dataset(self, start_step):
        return tf.data.Dataset.from_tensors(tf.ones((1, 1))).repeat()

    def train_step(self, batch, num_replicas):
        model = self.models["m"]
        with tf.GradientTape() as tape:
            w = model(batch)[0, 0]
            loss = -w
        grads = tape.gradient(loss, model.trainable_variables)
        self.optimizers["m"].apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return {"log_gap": tf.math.log(2.0 - model(batch)[0, 0])}

    def save_samples(self, path, step):
        return np.zeros((2, 2, 1), np.uint8)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = Trainer(Drifting(), tmp_path, options(10))
    with pytest.raises(TrainingDivergedError, match="ckpt-2"):
        trainer.fit()
    assert trainer.state.latest.endswith("ckpt-2")
    assert [r["step"] for r in trainer.history.rows] == [1, 2, 3]


def test_router_sums_gradients_of_shared_variables_once():
    shared = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    heads = [keras.layers.Dense(1, use_bias=False, kernel_initializer="ones") for _ in range(2)]
    models = {}
    for name, head in zip(("a", "b"), heads, strict=True):
        inp = keras.Input((1,))
        models[name] = keras.Model(inp, head(shared(inp)))
    opts = {name: keras.optimizers.SGD(1.0) for name in models}
    router = GradientRouter(models, opts)
    router.build()
    assert len(router.owned["a"]) == 2 and len(router.owned["b"]) == 1  # shared owned by 'a'
    x = tf.ones((1, 1))
    with tf.GradientTape(persistent=True) as tape:
        losses = {"a": 2.0 * models["a"](x)[0, 0], "b": 3.0 * models["b"](x)[0, 0]}
    router.apply(tape, losses)
    # d(2*s*h_a)/ds = 2, d(3*s*h_b)/ds = 3: the shared kernel takes one step of 5
    assert float(shared.kernel[0, 0]) == pytest.approx(1.0 - 5.0)
    assert float(heads[0].kernel[0, 0]) == pytest.approx(1.0 - 2.0)
    assert float(heads[1].kernel[0, 0]) == pytest.approx(1.0 - 3.0)


def test_router_sequential_steps_a_shared_variable_once_per_owner_at_one_point():
    """The authors' loop (spec 10.1-10.2): both gradients are taken at the same weights, then
    applied in turn by the one optimizer the two models share, so the shared variable moves
    twice (through the same momentum slot) and the counter counts two updates."""
    shared = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    heads = [keras.layers.Dense(1, use_bias=False, kernel_initializer="ones") for _ in range(2)]
    models = {}
    for name, head in zip(("a", "b"), heads, strict=True):
        inp = keras.Input((1,))
        models[name] = keras.Model(inp, head(shared(inp)))
    opt = keras.optimizers.SGD(1.0, momentum=0.5)  # var += m; m = 0.5 m - g
    router = GradientRouter(models, {"a": opt, "b": opt}, shared_update="sequential")
    router.build()
    x = tf.ones((1, 1))
    with tf.GradientTape(persistent=True) as tape:
        # at s = h_a = h_b = 1: d/ds = 2 for a; for b = (h_b s)^2, d/ds = d/dh_b = 2
        losses = {"a": 2.0 * models["a"](x)[0, 0], "b": models["b"](x)[0, 0] ** 2}
    router.apply(tape, losses)
    # s: m = -2, s = -1 (a's step); m = 0.5*(-2) - 2 = -3, s = -4 (b's gradient from s = 1,
    # not from the updated s = -1, which would give +2 and s = 0)
    assert float(shared.kernel[0, 0]) == pytest.approx(-4.0)
    assert float(heads[0].kernel[0, 0]) == pytest.approx(-1.0)
    assert float(heads[1].kernel[0, 0]) == pytest.approx(-1.0)
    assert int(opt.iterations.numpy()) == 2
    with pytest.raises(BadOptionError, match="sequential"):
        GradientRouter(models, {"a": opt, "b": opt}, shared_update="twice")


#: Two-replica test configuration: every regulariser that has a batch reduction, CoGAN sharing
#: (so sequential shared updates and synchronized BN are exercised), no dropout (the one op
#: whose random mask depends on the replica's slice of the batch).
REPLICA_CFG = dict(
    batch_size=4,
    n_critic=2,
    fr_weight=100.0,
    sl_weight=10.0,
    cc_weight=10.0,
    shared_generator_layers=2,
    shared_discriminator_layers=2,
    discriminator_options={"init": "xavier", "dropout": 0.0},
)

_REPLICA_SCRIPT = """
import json
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import importlib.util
spec = importlib.util.spec_from_file_location("tt", {test_file!r})
tt = importlib.util.module_from_spec(spec); spec.loader.exec_module(tt)
from gan_repro.training import CoupledConfig, Trainer

# one strategy object each for the whole script: two MirroredStrategy objects in one process
# number their collectives alike and collide in the runtime's collective state
STRATEGIES = (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
              ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])))

def first_point(trainer):
    # losses and per-variable gradients of step 1 at the initial weights, all replicas summed
    fam, strategy = trainer.family, trainer.strategy
    m = fam.models
    batch = next(iter(strategy.experimental_distribute_dataset(fam.dataset(0))))
    def replica(b):
        n = strategy.num_replicas_in_sync
        logs, losses = {{}}, {{}}
        with tf.GradientTape(persistent=True) as tape:
            for k in (1, 2):
                losses[f"d{{k}}"] = fam._critic_loss(
                    k, m[f"g{{k}}"], m[f"d{{k}}"], b["z_critic"][:, 0], b[f"x{{k}}"][:, 0],
                    b["alpha"][:, 0], logs) / n
            g_losses, g_logs = fam.generator_losses(b["z_gen"], (b["x1"][:, -1], b["x2"][:, -1]), n)
        losses.update(g_losses); logs.update(g_logs)
        grads = {{}}
        for name, loss in losses.items():
            for i, g in enumerate(tape.gradient(loss, m[name].trainable_variables)):
                grads[f"{{name}}/{{i}}"] = g if g is not None else tf.zeros(())
        return logs, grads
    logs, grads = tf.function(lambda b: strategy.run(replica, args=(b,)))(batch)
    logs = {{k: float(strategy.reduce("MEAN", v, axis=None)) for k, v in logs.items()}}
    grads = {{k: strategy.reduce("SUM", v, axis=None).numpy().tolist() for k, v in grads.items()}}
    return logs, grads

out = {{}}
for name, strategy in STRATEGIES:
    t = Trainer(tt.coupled(CoupledConfig(**{cfg!r})), {run_dir!r} + "/point_" + name,
                tt.options(1), strategy=strategy)
    out["point_" + name] = first_point(t)
for name, strategy in STRATEGIES:
    t = Trainer(tt.coupled(CoupledConfig(**{cfg!r})), {run_dir!r} + "/" + name,
                tt.options(3), strategy=strategy)
    out[name] = t.fit().rows
print("JSON" + json.dumps(out))
"""


def test_two_replicas_train_like_one(tmp_path):
    """One vs two CPU replicas (MirroredStrategy) on the same global batch.

    Exact part: at the initial weights the step-1 losses and every per-variable gradient (summed
    over replicas) must agree to float32 reduction rounding. The two runs add the same batch
    terms in another order (two half-batch sums, then an all-reduce); reordering a sum of N
    float32 terms changes it by about sqrt(N)*eps*sum|terms| (eps = 6e-8). A weight gradient
    here sums N <= 4*32*32 = 4096 terms, so ~4e-6 relative to the gradient's magnitude: the
    bound is 2e-5 on the gradient's norm (not element-wise, where cancellation makes tiny
    entries arbitrarily relative), plus 1e-5 of the model's whole gradient norm for gradients
    that are 0 in exact arithmetic, and 1e-5 on each loss.

    Trained part: after that, Adam's first updates are sign-like (lr * g / |g|), so any entry
    whose gradient is within rounding of 0 may step by up to 2*lr the other way, and the runs
    drift apart by more than rounding (measured elsewhere: 1.7e-3 relative on AVX-512/AMX with
    oneDNN). The bound for the logged losses of steps 1-3 is therefore the effect of such
    flips, not rounding: each Adam step moves a weight by at most ~lr = 2e-4 (|m_hat| /
    sqrt(v_hat) <= ~1 for the first steps), i.e. ~1e-3 relative to the Xavier-scale weights
    (std ~0.02-0.1) after 3 steps when every entry flips; losses are smooth in the weights, so
    a 1e-2 relative (+1e-3 absolute for near-zero terms) bound on the losses holds with margin
    while still catching a wrong replica reduction (e.g. a loss not divided by the replica
    count doubles the step and moves the losses by O(1) relative).
    """
    script = _REPLICA_SCRIPT.format(test_file=str(__file__), cfg=REPLICA_CFG, run_dir=str(tmp_path))
    # oneDNN's CPU convolutions pick other kernels for the half batch on AVX-512/AMX machines
    # (measured: 0.5 % apart on a D2 kernel gradient), which is not the replica reduction this
    # test checks: the plain TensorFlow kernels sum in a fixed order. Likewise the one-device
    # run would use the fused batch norm that synchronised replicas cannot (models/fused.py):
    # both runs take Keras's own ops
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "GAN_REPRO_FUSED": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.split("JSON", 1)[1])
    (logs1, grads1), (logs2, grads2) = out["point_one"], out["point_two"]
    assert logs1.keys() == logs2.keys() and grads1.keys() == grads2.keys()
    # a loss that is a mean of signed terms (a WGAN critic's adversarial term, ~0.02 from
    # scores of ~0.5) carries the rounding of its terms, not of its value: 1e-6 absolute
    # (measured here: 2.9e-7 on d2_adv = -0.0186 on an AVX-512/AMX machine)
    for k in logs1:
        assert logs2[k] == pytest.approx(logs1[k], rel=1e-5, abs=1e-6), k
    # a gradient that vanishes in exact arithmetic (e.g. a conv bias right before batch norm)
    # is pure rounding noise, relative to the size of the summed terms, not to its own ~0
    # value: the floor is 1e-5 of the norm of the model's whole gradient
    scale = {}
    for k, g in grads1.items():
        scale[k.split("/")[0]] = scale.get(k.split("/")[0], 0.0) + float(np.sum(np.square(g)))
    for k in grads1:
        g1, g2 = np.asarray(grads1[k]), np.asarray(grads2[k])
        floor = 1e-5 * np.sqrt(scale[k.split("/")[0]])
        assert np.linalg.norm(g2 - g1) <= 2e-5 * np.linalg.norm(g1) + floor, k
    assert len(out["one"]) == len(out["two"]) == 3
    for a, b in zip(out["one"], out["two"], strict=True):
        assert a.keys() == b.keys()
        for k in a:
            assert b[k] == pytest.approx(a[k], rel=1e-2, abs=1e-3), k


def test_a_short_run_on_real_mnist_learns(tmp_path, shared_data):
    from gan_repro.data import load_mnist, mnist_to_rgb32

    mnist = mnist_to_rgb32(
        load_mnist("test", data_dir=shared_data / "mnist", source="local").images
    )
    config = CoupledConfig(
        batch_size=8,
        n_critic=1,
        loss="ns",
        shared_generator_layers=4,
        shared_discriminator_layers=3,
    )
    family = CoupledGAN(config, mnist[:2000], mnist[2000:4000], seed=1)
    trainer = Trainer(family, tmp_path, options(16, checkpoint_every=16, sample_every=16))
    data_mean = mnist[:2000].astype(np.float32).mean() / 127.5 - 1.0
    gap_before = abs(family.generate(family.fixed_z)[0].mean() - data_mean)
    history = trainer.fit()
    gap_after = abs(family.generate(family.fixed_z)[0].mean() - data_mean)
    d1 = history.column("d1")
    # the discriminator learns to tell real from fake (its NS loss starts near 2 log 2) ...
    assert d1[0] > 1.0 and np.mean(d1[-4:]) < 0.8 * d1[0]
    # ... and the generator's pixels move toward MNIST's mostly-black statistics
    assert gap_after < 0.5 * gap_before
    assert (tmp_path / "samples" / "step_000016.png").exists()
    assert (tmp_path / "checkpoints" / "checkpoint").exists()


@pytest.mark.parametrize("precision, jit", [("float32", True), ("mixed_bfloat16", False)])
def test_xla_and_bfloat16_steps_train_with_finite_losses(tmp_path, precision, jit):
    """(bfloat16 and XLA together fail on the CPU only: XLA:CPU has no bf16 MaxPoolGradGrad,
    the gradient penalty's second derivative through the Table 3.2 max-pools.)"""
    config = CoupledConfig(batch_size=2, n_critic=1, fr_weight=100.0)
    family = coupled(config)
    opts = options(1, precision=precision, jit_compile=jit)
    history = Trainer(family, tmp_path, opts).fit()
    assert all(np.isfinite(v) for v in history.rows[-1].values())
    dtype = "bfloat16" if precision == "mixed_bfloat16" else "float32"
    assert family.models["g1"].layers[1].compute_dtype == dtype
    assert family.generate(family.fixed_z)[0].dtype == np.float32  # images stay float32
