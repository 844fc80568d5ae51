"""The CycleGAN family: unpaired translation A <-> B with two generators and two discriminators.

It serves three theses through options, never copies of the loop: the face-aging CycleGAN
(section 4.3, L824-910: 20s (17-23) <-> 50s (47-53); Brownlee's Keras loop, ``update_order:
alternating``, the default and described first below) and the two MNIST <-> USPS studies
(``update_order: joint``, the Keras-GAN loop of Grignon & Joly and the joint generator step of
Kasmi & Thimonier, described after it).

**Alternating** (face aging). The layer tables match Brownlee's Keras CycleGAN (spec sections
1.2 and 7), and so does the training loop, written here as one GradientTape step in the base
code's order:

1. Translate the real batches, ``fake_B = G_AB(A)``, ``fake_A = G_BA(B)`` (inference, i.e.
   ``predict``), and pass each through its **image pool** (50 images, Shrivastava et al.; the
   base code's ``update_image_pool``): while the pool fills, a fake goes in and is used; then with
   probability 1/2 the fake is used as it is, else it replaces a random pooled image, which is
   used instead. The pools are checkpointed, so a resumed run sees the same history.
2. Update G_BA through its composite model (D_A and G_AB frozen):
   ``1 * MSE(D_A(G_BA(B)), 1) + 5 * |G_BA(A) - A| + 10 * |G_AB(G_BA(B)) - B|
   + 10 * |G_BA(G_AB(A)) - A|`` (adversarial, identity, forward and backward cycle; L906-910).
3. Update D_A twice (Keras: two ``train_on_batch`` calls): on real A (target 1), then on the
   pooled fakes (target 0), each loss ``0.5 * MSE``: the 0.5 "slows down the discriminator"
   (L906-908).
4. Update G_AB through its composite model (with the G_BA just updated), then D_B, the same way.

LSGAN (MSE against patch targets of ones/zeros) everywhere; Adam(2e-4, 0.5) for the four models.
Logged as the base code prints them: ``dA_real, dA_fake, dB_real, dB_fake`` (the 0.5-weighted
values Keras reports) and ``g_AtoB, g_BtoA`` (each composite's weighted total), plus each term.

Choices (spec 8.5, 8.16, 8.17): batch size 1 and the 50-image pool of the base code (the thesis
states neither). ``d_loss_weight=1.0`` is the "collapsed" setting of Fig 5.4/5.5: the thesis's
first run, before it slowed the discriminator. The Colab optimizer resets every ~8,000
iterations (L1110-1112) are an artefact and are not emulated: runs resume exactly.
The pools are per-replica state, so a pooled run uses one device (batch 1 leaves nothing to split).

Speed: the composite model's four generator passes are three here. Instance normalisation
normalises each image on its own, so G_AB on ``[A; B]`` in one batch is exactly G_AB(A) and
G_AB(B) (translation and identity), and G_BA on ``[G_AB(A); B]`` gives the forward cycle and the
input of the backward one (tested against separate calls). A network that mixes the images of a
batch (batch normalisation in training mode, Kasmi & Thimonier's networks) is called once per
input instead: the batching is an optimisation only where it is exact.

**Joint** (Keras-GAN ``cyclegan.py``, spec 002 section 1.2; spec 004 sections 2-3). Translate
both real batches (inference), update D_A twice (real, target 1; then the fakes, target 0) and
D_B the same way, each update the plain adversarial loss (``d_loss_weight`` 1), then update both
generators together on the combined model's loss::

    adv(D_B(G_AB(A)), 1) + adv(D_A(G_BA(B)), 1)
      + lambda_cycle * (|G_BA(G_AB(A)) - A| + |G_AB(G_BA(B)) - B|)
      + lambda_id * (|G_BA(A) - A| + |G_AB(B) - B|)

(Keras-GAN: ``loss_weights=[1, 1, lambda_cycle, lambda_cycle, lambda_id, lambda_id]`` with
``lambda_id = 0.1 * lambda_cycle``: ``identity_ratio: 0.1``). Each generator has its own Adam;
for Adam that equals one Adam over both (the update is per parameter, the step count the same).
Logged: Keras-GAN's printed ``d_loss = 0.5 * (dA + dB)`` with ``dA = 0.5 * (real + fake)`` and
``g_loss`` (the combined total), plus every term.

Options for the MNIST <-> USPS reports: ``adversarial`` (``lsgan``: MSE against 1/0 targets,
Keras-GAN's ``'mse'``; ``bce``: Eq 5's cross-entropy on logits, the generator maximising
log D(G(x)) as every implementation does), ``cycle_reduction`` (``mean``: Keras' ``mae``, the
mean absolute error per pixel; ``sum``: the absolute errors summed over each image's pixels,
averaged over the batch, under which Kasmi & Thimonier's lambda = 0.045 is a sensible weight,
spec 004 section 8.4), ``lambda_cycle`` (sets both cycle weights) and ``identity_ratio``
(identity weight = ratio * lambda_cycle).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from gan_repro.data.pipeline import image_stream
from gan_repro.errors import BadOptionError, check_choice
from gan_repro.losses import bce_with_logits, lsgan_loss
from gan_repro.models.face_aging import CYCLEGAN_IMAGE_SHAPE, RESIDUAL_MODES
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training.family import (
    Family,
    descend,
    run_batched,
    save_sample_rows,
    unpaired_domains,
)
from gan_repro.training.randomness import uniform_stream

#: The base code's 2 x 5 plot per direction: real inputs over their translations.
GRID_PAIRS = 5
#: ``update_order``: Brownlee's G_BA, D_A, G_AB, D_B; or both D then one step of both G.
UPDATE_ORDERS = ("alternating", "joint")
ADVERSARIAL = ("lsgan", "bce")
CYCLE_REDUCTIONS = ("mean", "sum")
D_UPDATES = ("split", "combined")


@dataclass
class CycleGANConfig:
    """Hyper-parameters of the thesis's CycleGAN (defaults: spec sections 2.2 and 3)."""

    image_shape: tuple[int, int, int] = CYCLEGAN_IMAGE_SHAPE
    batch_size: int = 1
    pool_size: int = 50
    n_residual: int = 9
    residual: str = "concat"
    lr: float = 2e-4
    beta_1: float = 0.5
    d_loss_weight: float = 0.5  # 1.0: the collapsed first run (Fig 5.4a)
    adversarial_weight: float = 1.0
    identity_weight: float = 5.0
    forward_cycle_weight: float = 10.0
    backward_cycle_weight: float = 10.0
    update_order: str = "alternating"  # UPDATE_ORDERS
    adversarial: str = "lsgan"  # ADVERSARIAL
    cycle_reduction: str = "mean"  # CYCLE_REDUCTIONS (the identity term uses the same)
    lambda_cycle: float | None = None  # when set: both cycle weights
    identity_ratio: float | None = None  # when set: identity_weight = ratio * lambda_cycle
    d_update: str = "split"  # D_UPDATES: real and fake as two updates (Keras), or one (Zhu)
    lr_decay_steps: int = 0  # > 0: constant lr, then linear decay to 0 over these last steps
    lr_hold_steps: int = 0  # steps at the constant lr before the decay (Zhu: half the epochs)
    # networks by registered name (gan_repro.registry.NETWORKS), see build_cyclegan_models
    generator: str = "face_aging_cyclegan_generator"
    discriminator: str = "face_aging_cyclegan_discriminator"
    generator_options: dict[str, Any] = field(default_factory=dict)
    discriminator_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_choice("residual", self.residual, RESIDUAL_MODES)
        check_choice("update_order", self.update_order, UPDATE_ORDERS)
        check_choice("adversarial", self.adversarial, ADVERSARIAL)
        check_choice("cycle_reduction", self.cycle_reduction, CYCLE_REDUCTIONS)
        check_choice("d_update", self.d_update, D_UPDATES)
        if self.lr_decay_steps < 0 or self.lr_hold_steps < 0:
            raise BadOptionError("lr_decay_steps and lr_hold_steps must be >= 0")
        if self.lambda_cycle is not None:
            self.forward_cycle_weight = self.backward_cycle_weight = float(self.lambda_cycle)
        if self.identity_ratio is not None:
            if self.lambda_cycle is None:
                raise BadOptionError("identity_ratio needs lambda_cycle (the weight it scales)")
            self.identity_weight = float(self.identity_ratio) * float(self.lambda_cycle)
        self.image_shape = tuple(int(v) for v in self.image_shape)
        if self.batch_size < 1 or self.pool_size < 0:
            raise BadOptionError("batch_size must be >= 1 and pool_size >= 0")
        self.generator_options = dict(self.generator_options)
        self.discriminator_options = dict(self.discriminator_options)

    def as_dict(self) -> dict:
        return asdict(self)


def build_cyclegan_models(config: CycleGANConfig) -> dict[str, keras.Model]:
    """G_AB, G_BA, D_A, D_B by their registered names. Any registered pair works: each builder
    takes ``image_shape`` and ``name``; the generator also gets ``n_residual`` and ``residual``
    when its signature has them (the thesis's does), and each its ``*_options``. The generator
    maps [B, H, W, C] to the same shape; the discriminator gives a patch (or scalar) score map
    for the LSGAN targets."""
    c = config
    blocks = {"n_residual": c.n_residual, "residual": c.residual}

    def gen(name):
        offered = {"image_shape": c.image_shape, "name": name, **blocks}
        return NETWORKS.build_offered(c.generator, offered, c.generator_options)

    def disc(name):
        offered = {"image_shape": c.image_shape, "name": name}
        return NETWORKS.build_offered(c.discriminator, offered, c.discriminator_options)

    return {
        "g_ab": gen("g_AtoB"),
        "g_ba": gen("g_BtoA"),
        "d_a": disc("d_A"),
        "d_b": disc("d_B"),
    }


class ImagePool:
    """The base code's pool of previously generated images, as variables (checkpointed).

    Branch-free, so it compiles under ``tf.function`` and XLA: ``u_use`` and ``u_slot`` are
    uniforms from the input stream (the base code's ``random()`` and ``randint``).
    """

    def __init__(self, size: int, image_shape, name: str):
        self.size = size
        self.images = tf.Variable(
            tf.zeros((max(size, 1), *image_shape)), trainable=False, name=f"{name}_images"
        )
        self.count = tf.Variable(0, dtype=tf.int32, trainable=False, name=f"{name}_count")

    @property
    def variables(self) -> list:
        return [self.images, self.count]

    def query(self, fakes, u_use, u_slot):
        if self.size == 0:
            return fakes
        out = []
        for i in range(fakes.shape[0]):  # static batch size (1 in the thesis)
            image = tf.cast(fakes[i], self.images.dtype)
            count = self.count.read_value()
            filling = count < self.size
            slot = tf.where(
                filling,
                count,
                tf.minimum(tf.cast(u_slot[i] * self.size, tf.int32), self.size - 1),
            )
            pooled = self.images[slot]
            use_new = filling | (u_use[i] < 0.5)
            store = filling | (u_use[i] >= 0.5)
            self.images.scatter_nd_update([[slot]], [tf.where(store, image, pooled)])
            self.count.assign(tf.minimum(count + 1, self.size))
            out.append(tf.where(use_new, image, pooled))
        return tf.stack(out)


@FAMILIES.register("cyclegan", source="CycleGAN of the face-aging thesis (Brownlee's Keras loop)")
class CycleGAN(Family):
    """Unpaired translation between ``domain_a`` and ``domain_b`` (uint8 [N,H,W,3] each)."""

    Config = CycleGANConfig
    inputs = ("a", "b")

    def __init__(
        self, config: CycleGANConfig, domain_a: np.ndarray, domain_b: np.ndarray, seed: int = 2020
    ):
        self.config = config
        self.seed = seed
        self.domains, self.fixed = unpaired_domains(
            config, domain_a, domain_b, seed, GRID_PAIRS, "CycleGAN"
        )

    def build(self) -> None:
        c = self.config
        self.models = build_cyclegan_models(c)
        # D in "split" mode takes two optimizer updates per step (real, then fake)
        split = c.d_update == "split"
        per_step = {k: 2 if split and k.startswith("d_") else 1 for k in self.models}
        self.optimizers = {
            name: keras.optimizers.Adam(
                hold_then_linear_decay(c.lr, c.lr_hold_steps, c.lr_decay_steps, per_step[name]),
                beta_1=c.beta_1,
            )
            for name in self.models
        }
        for name, opt in self.optimizers.items():
            opt.build(self.models[name].trainable_variables)
        self.pools = {k: ImagePool(c.pool_size, c.image_shape, f"pool_{k}") for k in ("a", "b")}
        # batch one call over several inputs only where each image is computed on its own
        self._batchable = {k: not _mixes_batch(m) for k, m in self.models.items()}
        self._translators: dict = {}  # compiled inference calls of translate(), by generator

    def state_variables(self) -> dict[str, list]:
        if self.config.pool_size == 0:
            return {}
        return {f"pool_{k}": pool.variables for k, pool in self.pools.items()}

    def dataset(self, start_step: int) -> tf.data.Dataset:
        b = self.config.batch_size
        reals = [
            image_stream(images, batch_size=b, seed=self.seed + 101 * (i + 1), start=start_step * b)
            for i, images in enumerate(self.domains)
        ]
        noise = uniform_stream(
            self.seed, start_step, {k: (b,) for k in ("use_a", "slot_a", "use_b", "slot_b")}
        )

        def merge(a, b_, rnd):
            return {"a": a, "b": b_, **rnd}

        return tf.data.Dataset.zip((*reals, noise)).map(merge).prefetch(tf.data.AUTOTUNE)

    # -- the replica step ------------------------------------------------------------------
    def train_step(self, batch, num_replicas: int) -> dict[str, tf.Tensor]:
        if num_replicas > 1 and self.config.pool_size:
            raise BadOptionError("the image pool is per-device state: train on one device")
        m = self.models
        real_a, real_b = batch["a"], batch["b"]
        fake_b = m["g_ab"](real_a, training=False)
        fake_a = m["g_ba"](real_b, training=False)
        fake_a = self.pools["a"].query(fake_a, batch["use_a"], batch["slot_a"])
        fake_b = self.pools["b"].query(fake_b, batch["use_b"], batch["slot_b"])
        logs = {}
        if self.config.update_order == "joint":  # Keras-GAN: both D, then both G at once
            logs.update(self._discriminator_update("d_a", real_a, fake_a, num_replicas, "dA"))
            logs.update(self._discriminator_update("d_b", real_b, fake_b, num_replicas, "dB"))
            logs.update(self._joint_generator_update(real_a, real_b, num_replicas))
            d_terms = [logs[f"{p}_{k}"] for p in ("dA", "dB") for k in ("real", "fake")]
            logs["d_loss"] = tf.add_n(d_terms) / 4.0  # 0.5 * (0.5 (real+fake) A + ... B)
            return logs
        # base code order: G_BtoA, D_A, G_AtoB, D_B
        logs.update(self._generator_update("g_ba", "g_ab", "d_a", real_b, real_a, num_replicas))
        logs.update(self._discriminator_update("d_a", real_a, fake_a, num_replicas, "dA"))
        logs.update(self._generator_update("g_ab", "g_ba", "d_b", real_a, real_b, num_replicas))
        logs.update(self._discriminator_update("d_b", real_b, fake_b, num_replicas, "dB"))
        return logs

    def _generator_update(self, g1, g2, d, source, target, num_replicas):
        """The composite model of ``g1`` (source -> target); ``d`` judges the target domain.

        ``g_AtoB``: adversarial on D_B(G_AB(A)), identity G_AB(B) ~ B, forward cycle
        G_BA(G_AB(A)) ~ A, backward cycle G_AB(G_BA(B)) ~ B. Only ``g1`` is updated."""
        c, m = self.config, self.models
        with tf.GradientTape() as tape:
            # Instance norm is per image, so one call on [source; target] is exactly the two
            # calls of the composite model (translation and identity), and likewise for g2.
            translated, same = self._call(g1, source, target)
            cycled, target_in_source = self._call(g2, translated, target)
            adv = self._adversarial(m[d](translated, training=True), 1.0)
            identity = self._distance(same, target)
            forward = self._distance(cycled, source)
            backward = self._distance(m[g1](target_in_source, training=True), target)
            total = (
                c.adversarial_weight * adv
                + c.identity_weight * identity
                + c.forward_cycle_weight * forward
                + c.backward_cycle_weight * backward
            )
            scaled = total / num_replicas
        descend(self.optimizers[g1], tape, scaled, m[g1].trainable_variables)
        name = "g_AtoB" if g1 == "g_ab" else "g_BtoA"
        return {
            name: total,
            f"{name}_adv": adv,
            f"{name}_identity": identity,
            f"{name}_cycle_forward": forward,
            f"{name}_cycle_backward": backward,
        }

    def _joint_generator_update(self, real_a, real_b, num_replicas):
        """Keras-GAN's combined model: both generators take one step on the summed loss (the
        module docstring); identity terms are skipped (not computed) at weight 0."""
        c, m = self.config, self.models
        with_identity = c.identity_weight != 0
        with tf.GradientTape() as tape:
            if with_identity:  # G_AB on [A; B] gives fake B and B's identity (per image)
                fake_b, same_b = self._call("g_ab", real_a, real_b)
                fake_a, same_a = self._call("g_ba", real_b, real_a)
            else:
                fake_b = m["g_ab"](real_a, training=True)
                fake_a = m["g_ba"](real_b, training=True)
            cycled_a = m["g_ba"](fake_b, training=True)
            cycled_b = m["g_ab"](fake_a, training=True)
            adv_ab = self._adversarial(m["d_b"](fake_b, training=True), 1.0)
            adv_ba = self._adversarial(m["d_a"](fake_a, training=True), 1.0)
            cycle_a = self._distance(cycled_a, real_a)
            cycle_b = self._distance(cycled_b, real_b)
            total = (
                c.adversarial_weight * (adv_ab + adv_ba)
                + c.forward_cycle_weight * cycle_a
                + c.backward_cycle_weight * cycle_b
            )
            logs = {"g_AtoB_adv": adv_ab, "g_BtoA_adv": adv_ba}
            logs.update(cycle_A=cycle_a, cycle_B=cycle_b)
            if with_identity:
                identity_a = self._distance(same_a, real_a)
                identity_b = self._distance(same_b, real_b)
                total += c.identity_weight * (identity_a + identity_b)
                logs.update(identity_A=identity_a, identity_B=identity_b)
            scaled = total / num_replicas
        variables = {k: m[k].trainable_variables for k in ("g_ab", "g_ba")}
        grads = tape.gradient(scaled, variables)
        for k, vs in variables.items():
            self.optimizers[k].apply_gradients(zip(grads[k], vs, strict=True))
        return {"g_loss": total, **logs}

    def _call(self, g, *inputs):
        """``g`` on each input, in training mode: one call on the concatenated batch when the
        network computes every image on its own (instance norm), else one call per input."""
        model = self.models[g]
        if not self._batchable[g]:
            return [model(x, training=True) for x in inputs]
        sizes = [tf.shape(x)[0] for x in inputs]
        return tf.split(model(tf.concat(inputs, 0), training=True), sizes, axis=0)

    def _adversarial(self, scores, target: float) -> tf.Tensor:
        """The ``adversarial`` loss of scores against a constant target (1 real, 0 fake)."""
        if self.config.adversarial == "bce":
            return bce_with_logits(target, scores)
        return lsgan_loss(scores, target)

    def _distance(self, output, target) -> tf.Tensor:
        """L1 of the cycle and identity terms (:func:`l1_distance`, ``cycle_reduction``)."""
        return l1_distance(output, target, self.config.cycle_reduction)

    def _discriminator_update(self, d, real, fake, num_replicas, prefix):
        """``d_loss_weight * adv`` on real (target 1) and on fake (target 0): two updates
        (``d_update: split``, the Keras code's two ``train_on_batch``) or one update on their
        sum (``combined``, Zhu's ``(loss_D_real + loss_D_fake) * 0.5``)."""
        model, opt = self.models[d], self.optimizers[d]
        w = self.config.d_loss_weight
        if self.config.d_update == "combined":
            with tf.GradientTape() as tape:
                real_loss = w * self._adversarial(model(real, training=True), 1.0)
                fake_loss = w * self._adversarial(model(fake, training=True), 0.0)
                scaled = (real_loss + fake_loss) / num_replicas
            descend(opt, tape, scaled, model.trainable_variables)
            return {f"{prefix}_real": real_loss, f"{prefix}_fake": fake_loss}
        logs = {}
        for kind, images, target in (("real", real, 1.0), ("fake", fake, 0.0)):
            with tf.GradientTape() as tape:
                loss = w * self._adversarial(model(images, training=True), target)
                scaled = loss / num_replicas
            descend(opt, tape, scaled, model.trainable_variables)
            logs[f"{prefix}_{kind}"] = loss
        return logs

    # -- samples ---------------------------------------------------------------------------
    def translate(
        self,
        images,
        direction: str = "AtoB",
        batch_size: int = 8,
        noise_seed: int | None = None,
        shared_noise: bool = True,
    ) -> np.ndarray:
        """Translate float [-1, 1] or uint8 images with G_AB ("AtoB") or G_BA ("BtoA"), in
        inference mode, ``batch_size`` at a time through one compiled call per direction.
        ``noise_seed`` and ``shared_noise`` are the common interface with UNIT, ignored: a CycleGAN
        is deterministic, one output per input (its LPIPS diversity is 0 by construction)."""
        check_choice("direction", direction, ("AtoB", "BtoA"))
        key = "g_ab" if direction == "AtoB" else "g_ba"
        if key not in self._translators:
            g = self.models[key]
            self._translators[key] = tf.function(lambda x: g(x, training=False))
        run = self._translators[key]
        return run_batched(lambda x, rows: run(tf.constant(x)), images, batch_size)

    def samples(self, step: int) -> dict[str, np.ndarray]:
        a, b = self.fixed
        return {
            "real_a": a,
            "a_to_b": self.translate(a, "AtoB"),
            "real_b": b,
            "b_to_a": self.translate(b, "BtoA"),
        }

    def save_samples(self, path, step: int) -> np.ndarray:
        """Rows: real A, G_AB(A), real B, G_BA(B) (the base code's two 2x5 plots, stacked)."""
        return save_sample_rows(self.samples(step), path)


class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Zhu et al.'s schedule (``--n_epochs``, ``--n_epochs_decay``, ``lr_policy linear``): the
    base rate for ``hold`` steps, then linearly down to 0 over ``decay`` steps, step by step
    (Zhu steps it once per epoch). ``per_step`` optimizer updates make one training step."""

    def __init__(self, lr: float, hold: int, decay: int, per_step: int = 1):
        self.lr, self.hold, self.decay, self.per_step = float(lr), int(hold), int(decay), per_step

    def __call__(self, iterations):
        step = tf.cast(iterations // self.per_step, tf.float32)
        left = (self.hold + self.decay - step) / float(self.decay)
        return self.lr * tf.clip_by_value(left, 0.0, 1.0)

    def get_config(self):
        return {"lr": self.lr, "hold": self.hold, "decay": self.decay, "per_step": self.per_step}


def hold_then_linear_decay(lr: float, hold: int, decay: int, per_step: int = 1):
    """A constant ``lr`` when ``decay`` is 0, else :class:`HoldThenLinearDecay`."""
    return HoldThenLinearDecay(lr, hold, decay, per_step) if decay else lr


def l1_distance(output, target, reduction: str = "mean") -> tf.Tensor:
    """``|output - target|`` of Eq 6 as a float32 scalar: ``mean`` over every pixel (Keras
    ``mae``, the face-aging and Keras-GAN code) or ``sum`` over each image's pixels, averaged over
    the batch (CSC321's ``abs(x - rec).sum() / batch``; spec 004 section 8.4: lambda = 0.045
    weighs a 28x28 image's summed error, 784 pixels)."""
    diff = tf.abs(tf.cast(output, tf.float32) - tf.cast(target, tf.float32))
    if reduction == "sum":
        return tf.reduce_mean(tf.reduce_sum(diff, axis=tf.range(1, tf.rank(diff))))
    return tf.reduce_mean(diff)


def _mixes_batch(model: keras.Model) -> bool:
    """Whether ``model`` in training mode computes an image from the others of its batch
    (batch normalisation, also inside nested models)."""
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            return True
    return False


def load_cyclegan(run_dir, domain_a=None, domain_b=None) -> tuple[CycleGAN, int]:
    """The family of a trained run folder, generators and discriminators restored at its newest
    checkpoint: ``family.translate(faces, "AtoB")``."""
    from pathlib import Path

    from gan_repro.io import read_json
    from gan_repro.training.state import restore_trained

    saved = read_json(Path(run_dir) / "config.json")
    config = CycleGANConfig(**saved["model"])
    seed = saved["trainer"]["seed"]
    if domain_a is None and domain_b is None:
        family = CycleGAN.for_inference(config, seed=seed)
    else:
        empty = np.zeros((1, *config.image_shape), np.uint8)
        family = CycleGAN(
            config,
            empty if domain_a is None else domain_a,
            empty if domain_b is None else domain_b,
            seed=seed,
        )
        family.build()
    return family, restore_trained(run_dir, family.models)
