"""``gan-repro bench --face-models ...``: each face-aging model's training step, timed.

One step is one iteration of the thesis's loop at its batch size (spec 000 section 3): DCGAN
batch 60, CGAN batch 100 (latent 120 with the proposed loss for ``cgan-lc``), CDCGAN batch 16,
CycleGAN batch 1 at 256x256 (``--cyclegan-size`` for a quicker look; the parameter count does not
depend on it). Each family is built from its run of the face-aging declaration on the smoke
scale's real faces (the bundled sample): the cost does not depend on the pixels.

Modes: ``keras`` is the authors' loop, Keras-GAN's ``generator.predict`` + two
``discriminator.train_on_batch`` + ``combined.train_on_batch`` on compiled Keras models (the
baseline "faster than the authors' code" is measured against; image GANs only; the combined
model holds a frozen copy of D, since Keras 3 cannot freeze a compiled model's weights in one
model only, which costs the same as the original); ``eager`` runs our
step op by op; ``function`` compiles it with ``tf.function`` (what the trainer does); ``xla``
adds ``jit_compile``.
"""

from __future__ import annotations

import keras
import numpy as np

from gan_repro.bench_table import device_scope, format_table, step_modes, step_rows, with_speedup
from gan_repro.errors import check_choice
from gan_repro.training.image_gan import ImageGANConfig, build_models

#: Each face model: its run of ``experiments/face_aging/utkface.yaml`` and the thesis's batch.
FACE_MODELS = {
    "dcgan": ("dcgan", 60),
    "cgan": ("cgan-z120", 100),
    "cgan-lc": ("cgan-lc-b1", 100),
    "cdcgan": ("cdcgan", 16),
    "cyclegan": ("cyclegan", 1),
}
FACE_MODES = ("keras", "eager", "function", "xla")
FACE_AGING = "face_aging/utkface"


def _family(name: str, cyclegan_size: int):
    """The face model's family from its declaration, on the smoke scale's real faces."""
    from gan_repro.runner import build_family

    run, batch = FACE_MODELS[name]
    tokens = [f"model.batch_size={batch}"]
    if name == "cyclegan":
        size = cyclegan_size
        tokens += [f"data.size={size}", f"model.image_shape=[{size},{size},3]"]
    return build_family(FACE_AGING, run, tokens)


def keras_authors_step(config: ImageGANConfig):
    """The Keras-GAN ``train`` iteration (dcgan.py / cgan.py) on Keras 3 compiled models: returns
    ``step(batch)`` running predict, two D ``train_on_batch`` and the combined one."""
    c = config
    g, _ = build_models(c)
    _, d = build_models(ImageGANConfig(**{**c.as_dict(), "d_loss": "bce"}))
    d = keras.Model(d.inputs, keras.layers.Activation("sigmoid")(d.outputs[0]))
    d.compile(keras.optimizers.Adam(c.lr, beta_1=c.beta_1), "binary_crossentropy")
    # Keras 2 froze D inside the combined model by setting trainable=False after compiling D;
    # Keras 3 reads `trainable` at every train step, so that would freeze D's own updates too.
    # The combined model gets a frozen copy instead: the same computation, for timing only.
    frozen = keras.models.clone_model(d)
    frozen.trainable = False
    cond = g.inputs[1:]
    inputs = g.inputs if cond else g.inputs[0]
    combined = keras.Model(inputs, frozen([g(inputs), *cond]) if cond else frozen(g(inputs)))
    combined.compile(keras.optimizers.Adam(c.lr, beta_1=c.beta_1), "binary_crossentropy")
    b = c.batch_size
    rng = np.random.default_rng(0)
    ones, zeros = np.ones((b, 1), np.float32), np.zeros((b, 1), np.float32)

    def condition(labels):
        if c.model == "cgan":
            return [labels.reshape(-1, 1).astype(np.int32)]
        if c.model == "cdcgan":
            return [np.eye(c.classes, dtype=np.float32)[labels]]
        return []

    def step(batch):
        x, labels = np.asarray(batch["x"]), np.asarray(batch["y"])
        z = rng.normal(size=(b, c.latent_dim)).astype(np.float32)
        fake = g.predict_on_batch([z, *condition(labels)] if c.conditional else z)
        real_in = [x, *condition(labels)] if c.conditional else x
        fake_in = [fake, *condition(labels)] if c.conditional else fake
        d_real = d.train_on_batch(real_in, ones)
        d_fake = d.train_on_batch(fake_in, zeros)
        sampled = rng.integers(0, c.classes, b)
        g_in = [z, *condition(sampled)] if c.conditional else z
        g_loss = combined.train_on_batch(g_in, ones)
        return {"d_real": d_real, "d_fake": d_fake, "g_loss": g_loss}

    return step


def run_face_bench(
    device: str = "cpu",
    models=tuple(FACE_MODELS),
    steps: int = 3,
    modes=FACE_MODES,
    cyclegan_size: int = 256,
    flops: bool = True,
    after=None,
) -> list[dict]:
    """Seconds per training step of each face model in each mode, and the step's FLOPs
    (``flops``); table rows. ``after(leading, fns, batch, modes)`` runs after each model's
    timings."""
    for mode in modes:
        check_choice("mode", mode, FACE_MODES)
    rows = []
    with device_scope(device):
        for name in models:
            check_choice("face model", name, FACE_MODELS)
            family = _family(name, cyclegan_size)
            batch = next(iter(family.dataset(0)))
            fns = step_modes(family)
            # no Keras-GAN loop for the CycleGAN or the proposed loss (see the module doc)
            keras_loop = name != "cyclegan" and family.config.d_loss != "proposed"
            here = [m for m in modes if m != "keras" or keras_loop]
            if "keras" in here:
                fns["keras"] = keras_authors_step(family.config)
            rows += step_rows({"model": name}, fns, here, batch, steps, flops, after)
    return with_speedup(rows, ("keras", "eager"), "speed-up")


def format_face_table(rows: list[dict], title: str) -> str:
    """:func:`~gan_repro.bench_table.format_table` with a model column and the authors' ratio."""
    label = "speed-up vs authors' loop (keras) or eager"
    return format_table(rows, title, speedup=("speed-up", label), leading=("model",))
