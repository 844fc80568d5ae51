"""The trainer core: exact resume, divergence handling, gradient routing, replicas, learning."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_repro.errors import TrainingDivergedError
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


def test_two_replicas_train_exactly_like_one(tmp_path):
    script = textwrap.dedent(
        f"""
        import json, os
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        two = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, two)
        sys_path = {str(__file__)!r}
        import importlib.util
        spec = importlib.util.spec_from_file_location("tt", sys_path)
        tt = importlib.util.module_from_spec(spec); spec.loader.exec_module(tt)
        from gan_repro.training import CoupledConfig, Trainer
        cfg = dict(batch_size=4, n_critic=2, fr_weight=100.0, sl_weight=10.0, dropout=0.0)
        out = {{}}
        for name, strategy in (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                               ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
            t = Trainer(tt.coupled(CoupledConfig(**cfg)), {str(tmp_path)!r} + "/" + name,
                        tt.options(3), strategy=strategy)
            out[name] = t.history.rows if t.fit() else None
        print("JSON" + json.dumps(out))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.split("JSON", 1)[1])
    assert len(out["one"]) == len(out["two"]) == 3
    for a, b in zip(out["one"], out["two"], strict=True):
        for k in a:
            assert a[k] == pytest.approx(b[k], rel=1e-4, abs=1e-5), k


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
