"""Noise-to-image GANs of the face-aging thesis: DCGAN, CGAN (+ the proposed loss) and CDCGAN.

One family, one replica step (spec 000 sections 2.2, 2.3 and 3), the Keras-GAN training loop
(``dcgan.py``/``cgan.py``, which the thesis adapted, L790, L914) written as one GradientTape step:

1. z ~ N(0, 1) [B, latent]; the generator makes a fake batch in inference mode (Keras-GAN's
   ``generator.predict``), conditioned on the real batch's age classes.
2. The discriminator takes **two updates**, as Keras-GAN's two ``train_on_batch`` calls do: on
   the real batch (target 1), then on the fake batch (target 0). The logged ``d_loss`` is their
   mean, as Keras-GAN prints it, and ``d_acc`` the mean accuracy of both (L1087 watches it).
3. The generator takes one update through the discriminator (the "combined" model) on the same
   z with *random* classes (Keras-GAN's ``sampled_labels``), target 1.

Losses: BCE for both (L820, L954, L982), on logits (the builders' ``logits=True``) with the
numerically stable form; the same value as Keras' BCE on the sigmoid (which clips at 1e-7).

``d_loss="proposed"`` is the thesis's loss for the CGAN discriminator (section 4.6, L986-1050):
``alpha * BCE + beta * LC`` with ``LC = mean|P| - mean|N|``. In each of the two updates, every
image of the batch being trained is an anchor x; its positive y is another image of the same
batch and its negative z an image of the other batch, both picked at random (L1030, the indices
come from the input stream). ``P = |f(x) - f(y)| / SSIM(x, y)``, ``N = |f(x) - f(z)| / SSIM(x, z)``
with f the likelihood ``sigmoid(D)`` (L1042). The thesis had to precompute f(z) outside the Keras
loss (spec 8.15c); here f(z) is evaluated under the current weights with ``stop_gradient``, which
is what a precomputed value is. The generator keeps BCE (spec 8.15e). SSIM is skimage's
(:mod:`gan_repro.losses.ssim`) of the images shifted by ``ssim_pixel_offset`` = 1 to [0, 2], with
``ssim_data_range`` = 2 (spec 8.15b), a floor ``ssim_floor`` = 0.01 for SSIM <= 0.01 (8.15a), and
``lc_partners`` = "per_anchor": one random positive and negative per anchor (8.15d; "per_batch"
is the one triplet per batch that "two coefficients for each batch", L992, could also mean);
see :mod:`gan_repro.losses.lipschitz`. All four are config fields, so config.json records them.

Networks are taken by name from :data:`gan_repro.registry.NETWORKS` (``generator`` /
``discriminator``, defaulting from ``model`` to the builders of
:mod:`gan_repro.models.face_aging`); each is called with the keyword arguments its signature
accepts among ``latent_dim``, ``classes``, ``image_shape`` (and ``logits=True`` for the
discriminator), plus ``generator_options`` / ``discriminator_options``. How a network takes the
age class is read from its inputs: one input (no label), an int ``[B, 1]`` label (the CGAN's
Embedding) or a float ``[B, classes]`` one-hot vector (the CDCGAN).

``labels="utkd"`` (CDCGAN option) uses the utkd notebook's label convention (spec section 3):
inverted soft targets, real ~ U(0, 0.1), fake ~ 1 - U(0, 0.1), 5 % of the D targets flipped, and
the generator trained toward 0. The default is the hard 1/0 targets of Keras-GAN (spec 8.13
recommends the clean loop as default). The notebook's experience replay and its early ``break``
out of each epoch are not reproduced (they are what makes "500 epochs = 1550 iterations").

Every draw (the batch order, z, the classes, the partners, the soft labels) is a function of
``(seed, step)`` in the input stream, so a resumed run continues the same curve. Real batches are
per-epoch permutations (every face once per epoch) where Keras-GAN drew indices with replacement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from gan_repro.data.pipeline import labelled_image_stream
from gan_repro.errors import BadOptionError, check_choice
from gan_repro.losses import bce_with_logits, lipschitz_ssim_loss, partner_indices, proposed_loss
from gan_repro.models import face_aging as fa
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training.family import Family, descend
from gan_repro.training.randomness import fixed_normal, uniform_stream
from gan_repro.viz.grids import save_image, tile

MODELS = ("dcgan", "cgan", "cdcgan")
#: Sample grids: DCGAN a 5x5 grid (Keras-GAN ``save_imgs``); CGAN one face per age class
#: (Fig 5.6 shows four images, L1164), here 2 rows of the 4 classes; CDCGAN 3 per class (the
#: utkd notebook's grid), one row per class.
GRID = {"dcgan": (5, 5), "cgan": (2, 4), "cdcgan": (4, 3)}
#: The registered builders (:data:`gan_repro.registry.NETWORKS`) of each model, Figs A.1/A.2
#: (DCGAN), A.6/A.7 + label Embeddings (CGAN, L932-950), A.8/A.9 (CDCGAN).
NETWORK_NAMES = {
    "dcgan": ("face_aging_dcgan_generator", "face_aging_dcgan_discriminator"),
    "cgan": ("face_aging_cgan_generator", "face_aging_cgan_discriminator"),
    "cdcgan": ("face_aging_cdcgan_generator", "face_aging_cdcgan_discriminator"),
}
#: How the proposed loss picks partners (spec 8.15d): a random positive and negative for every
#: anchor (default), or one random triplet per batch ("two coefficients for each batch", L992).
LC_PARTNERS = ("per_anchor", "per_batch")


@dataclass
class ImageGANConfig:
    """Hyper-parameters of one noise-to-image run (defaults: the thesis's CGAN, spec 3)."""

    model: str = "cgan"  # "dcgan" | "cgan" | "cdcgan"
    batch_size: int = 100
    latent_dim: int = 100
    classes: int = fa.AGE_CLASSES
    image_shape: tuple[int, int, int] | None = None  # None: the thesis's for the model
    lr: float = 2e-4
    beta_1: float = 0.5
    labels: str = "hard"  # "hard" | "utkd"
    label_flip: float = 0.05  # utkd only
    d_loss: str = "bce"  # "bce" | "proposed"
    alpha: float = 1.0
    beta: float = 1.0
    d2: str = "ssim"  # "ssim" (the thesis) | "dssim"  (spec 8.15a)
    ssim_floor: float = 0.01  # d2 clamped to >= this (spec 8.15a)
    ssim_pixel_offset: float = 1.0  # added before SSIM: [-1, 1] -> [0, 2] (spec 8.15b)
    ssim_data_range: float = 2.0  # SSIM's L on the shifted pixels (spec 8.15b)
    lc_partners: str = "per_anchor"  # "per_anchor" | "per_batch"  (spec 8.15d, L992, L1030)
    # networks by registered name (gan_repro.registry.NETWORKS); "" = the model's (NETWORK_NAMES)
    generator: str = ""
    discriminator: str = ""
    generator_options: dict[str, Any] = field(default_factory=dict)
    discriminator_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_choice("model", self.model, MODELS)
        check_choice("labels", self.labels, ("hard", "utkd"))
        check_choice("d_loss", self.d_loss, ("bce", "proposed"))
        check_choice("d2", self.d2, ("ssim", "dssim"))
        check_choice("lc_partners", self.lc_partners, LC_PARTNERS)
        if not self.ssim_data_range > 0:
            raise BadOptionError(f"ssim_data_range={self.ssim_data_range} must be > 0")
        g_name, d_name = NETWORK_NAMES[self.model]
        self.generator = self.generator or g_name
        self.discriminator = self.discriminator or d_name
        self.generator_options = dict(self.generator_options)
        self.discriminator_options = dict(self.discriminator_options)
        if self.image_shape is None:
            self.image_shape = {
                "dcgan": fa.DCGAN_IMAGE_SHAPE,
                "cgan": fa.CGAN_IMAGE_SHAPE,
                "cdcgan": fa.CDCGAN_IMAGE_SHAPE,
            }[self.model]
        self.image_shape = tuple(int(v) for v in self.image_shape)
        if self.batch_size < 2 and self.d_loss == "proposed":
            raise BadOptionError("the proposed loss needs batch_size >= 2 (a positive per anchor)")
        if self.batch_size < 1:
            raise BadOptionError("batch_size must be a positive integer")
        if self.d_loss == "proposed" and self.model == "dcgan":
            raise BadOptionError("the thesis tried the proposed loss on the CGAN only (L1040)")

    @property
    def conditional(self) -> bool:
        return self.model != "dcgan"

    def as_dict(self) -> dict:
        return asdict(self)


def condition_kind(model: keras.Model) -> str:
    """How ``model`` takes the age class: ``"none"`` (one input), ``"label"`` (a second input
    of shape [B, 1], the CGAN's integer label for its Embedding, spec 8.9) or ``"one_hot"``
    (a second input [B, K], the CDCGAN's float one-hot vector, L964/L978)."""
    if len(model.inputs) == 1:
        return "none"
    if len(model.inputs) != 2:
        raise BadOptionError(f"{model.name} has {len(model.inputs)} inputs; 1 or 2 expected")
    return "label" if tuple(model.inputs[1].shape[1:]) == (1,) else "one_hot"


def build_models(config: ImageGANConfig) -> tuple[keras.Model, keras.Model]:
    """(generator, discriminator) by their registered names; the discriminator outputs logits.

    Both must take the age class when the model is conditional and neither when it is not."""
    c = config
    offered = {"latent_dim": c.latent_dim, "classes": c.classes, "image_shape": c.image_shape}
    g = NETWORKS.build_offered(c.generator, offered, c.generator_options)
    d = NETWORKS.build_offered(
        c.discriminator, {**offered, "logits": True}, c.discriminator_options
    )
    for role, net in (("generator", g), ("discriminator", d)):
        kind = condition_kind(net)
        if (kind != "none") != c.conditional:
            raise BadOptionError(
                f"the {c.model} needs a{'' if c.conditional else 'n un'}conditional {role}; "
                f"{net.name} takes {'no label' if kind == 'none' else 'a label'}"
            )
        if kind == "one_hot" and tuple(net.inputs[1].shape[1:]) != (c.classes,):
            raise BadOptionError(f"{net.name}'s one-hot input does not have {c.classes} classes")
    return g, d


@FAMILIES.register(
    "image_gan", source="DCGAN / CGAN / CDCGAN of the face-aging thesis (Keras-GAN loop)"
)
class ImageGAN(Family):
    """DCGAN / CGAN / CDCGAN on uint8 faces ``images`` [N,H,W,C] with age classes ``labels``."""

    Config = ImageGANConfig
    inputs = ("images", "labels")

    def __init__(self, config: ImageGANConfig, images: np.ndarray, labels=None, seed: int = 2020):
        self.config = config
        self.images = np.asarray(images)
        if tuple(self.images.shape[1:]) != config.image_shape:
            raise BadOptionError(
                f"{config.model} expects faces of shape {config.image_shape}, got "
                f"{tuple(self.images.shape[1:])}: load them with the model's VARIANTS entry"
            )
        if labels is None:
            if config.conditional:
                raise BadOptionError(f"the {config.model} needs the age class of every face")
            labels = np.zeros(len(self.images), np.int64)
        self.labels = np.asarray(labels, np.int64)
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= config.classes):
            raise BadOptionError(f"age classes must lie in 0..{config.classes - 1}")
        self.seed = seed

    # -- construction ----------------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        g, d = build_models(c)
        self.models = {"g": g, "d": d}
        self._kinds = {"g": condition_kind(g), "d": condition_kind(d)}
        self.optimizers = {
            name: keras.optimizers.Adam(c.lr, beta_1=c.beta_1) for name in self.models
        }
        for name, opt in self.optimizers.items():
            opt.build(self.models[name].trainable_variables)
        rows, cols = GRID[c.model]
        self.fixed_z = fixed_normal(self.seed, (rows * cols, c.latent_dim))
        # CGAN: the 4 classes in each row; CDCGAN: one row per class
        cells = np.arange(rows * cols)
        # CGAN: the classes along each row; CDCGAN: one row per class; DCGAN: unused
        self.fixed_classes = (cells % cols if c.model == "cgan" else cells // cols) % c.classes

    # -- input stream ----------------------------------------------------------------------
    def dataset(self, start_step: int) -> tf.data.Dataset:
        c = self.config
        b = c.batch_size
        real = labelled_image_stream(
            self.images, self.labels, batch_size=b, seed=self.seed + 101, start=start_step * b
        )
        shapes = {"z": (b, c.latent_dim), "g_classes": (b,)}
        if c.d_loss == "proposed":
            shapes.update({"pos_real": (b,), "neg_real": (b,), "pos_fake": (b,), "neg_fake": (b,)})
        if c.labels == "utkd":
            shapes.update({"soft_real": (b,), "soft_fake": (b,), "flip": (b, 2)})
        noise = uniform_stream(self.seed, start_step, shapes, normal=("z",))

        def merge(xy, rnd):
            x, y = xy
            return {"x": x, "y": y, **rnd}

        return tf.data.Dataset.zip((real, noise)).map(merge).prefetch(tf.data.AUTOTUNE)

    # -- model calls -----------------------------------------------------------------------
    def _condition(self, net: str, classes) -> list:
        """The label input of network ``net`` ("g" or "d") for age ``classes`` [B]: the same
        class index reaches both networks, as an int label or a one-hot vector."""
        kind = self._kinds[net]
        if kind == "label":
            return [tf.reshape(tf.cast(classes, tf.int32), (-1, 1))]
        if kind == "one_hot":
            return [tf.one_hot(tf.cast(classes, tf.int32), self.config.classes)]
        return []

    def generate(self, z, classes=None, training=False):
        g = self.models["g"]
        if not self.config.conditional:
            return g(z, training=training)
        return g([z, *self._condition("g", classes)], training=training)

    def discriminate(self, images, classes, training=True):
        d = self.models["d"]
        if not self.config.conditional:
            return d(images, training=training)
        return d([images, *self._condition("d", classes)], training=training)

    # -- targets ---------------------------------------------------------------------------
    def _targets(self, batch):
        """(real target, fake target, generator target), each [B, 1]."""
        c = self.config
        b = tf.shape(batch["z"])[0]
        ones, zeros = tf.ones((b, 1)), tf.zeros((b, 1))
        if c.labels == "hard":
            return ones, zeros, ones
        real = 0.1 * batch["soft_real"][:, None]  # inverted: real ~ U(0, 0.1)
        fake = 1.0 - 0.1 * batch["soft_fake"][:, None]  # fake ~ 1 - U(0, 0.1)
        flip = batch["flip"] < c.label_flip
        real = tf.where(flip[:, :1], 1.0 - real, real)
        fake = tf.where(flip[:, 1:], 1.0 - fake, fake)
        return real, fake, zeros

    # -- the replica step ------------------------------------------------------------------
    def train_step(self, batch, num_replicas: int) -> dict[str, tf.Tensor]:
        c, m = self.config, self.models
        x, y, z = batch["x"], batch["y"], batch["z"]
        t_real, t_fake, t_gen = self._targets(batch)
        fake = self.generate(z, y, training=False)  # Keras-GAN: generator.predict
        logs = {}
        for kind, images, target, other in (
            ("real", x, t_real, fake),
            ("fake", fake, t_fake, x),
        ):
            with tf.GradientTape() as tape:
                logits = self.discriminate(images, y)
                bce = bce_with_logits(target, logits)
                loss = bce
                if c.d_loss == "proposed":
                    lc, lc_logs = self._lc_term(batch, kind, images, other, y, logits)
                    loss = proposed_loss(bce, lc, c.alpha, c.beta)
                    logs.update({f"{k}_{kind}": v for k, v in lc_logs.items()})
                    logs[f"bce_{kind}"] = bce
                scaled = loss / num_replicas
            descend(self.optimizers["d"], tape, scaled, m["d"].trainable_variables)
            hit = tf.cast(tf.round(tf.sigmoid(logits)) == tf.round(target), tf.float32)
            logs[f"d_{kind}"] = loss
            logs[f"d_acc_{kind}"] = tf.reduce_mean(hit)
        g_classes = tf.minimum(
            tf.cast(batch["g_classes"] * c.classes, tf.int64), c.classes - 1
        )  # Keras-GAN: np.random.randint(0, classes)
        with tf.GradientTape() as tape:
            g_images = self.generate(z, g_classes, training=True)
            g_loss = bce_with_logits(t_gen, self.discriminate(g_images, g_classes))
            scaled = g_loss / num_replicas
        descend(self.optimizers["g"], tape, scaled, m["g"].trainable_variables)
        logs["d_loss"] = 0.5 * (logs["d_real"] + logs["d_fake"])
        logs["d_acc"] = 0.5 * (logs.pop("d_acc_real") + logs.pop("d_acc_fake"))
        logs["g_loss"] = g_loss
        return logs

    def _lc_term(self, batch, kind, anchors, others, classes, logits):
        """LC of one discriminator update: anchors = the batch trained on, negatives from the
        other batch, scored under the current weights without gradient (see module doc).

        ``lc_partners="per_batch"`` keeps the first triplet only (the batch order is random):
        one P and one N for the batch (L992)."""
        c = self.config
        n = tf.shape(anchors)[0]
        pos = partner_indices(batch[f"pos_{kind}"], n, exclude_self=True)
        neg = partner_indices(batch[f"neg_{kind}"], n, exclude_self=False)
        f_x = tf.sigmoid(logits)
        f_y = tf.gather(f_x, pos)
        f_other = tf.stop_gradient(tf.sigmoid(self.discriminate(others, classes)))
        f_z = tf.gather(f_other, neg)
        x, y, z = anchors, tf.gather(anchors, pos), tf.gather(others, neg)
        if c.lc_partners == "per_batch":
            f_x, f_y, f_z, x, y, z = (t[:1] for t in (f_x, f_y, f_z, x, y, z))
        return lipschitz_ssim_loss(
            f_x,
            f_y,
            f_z,
            x,
            y,
            z,
            d2=c.d2,
            floor=c.ssim_floor,
            data_range=c.ssim_data_range,
            pixel_offset=c.ssim_pixel_offset,
        )

    # -- samples ---------------------------------------------------------------------------
    def sample(self, z, classes=None) -> np.ndarray:
        """Generated faces in [-1, 1] for noise ``z`` and age ``classes`` (inference mode)."""
        classes = None if classes is None else tf.constant(np.asarray(classes, np.int64))
        return np.asarray(self.generate(tf.constant(z), classes, training=False))

    def samples(self, step: int) -> dict[str, np.ndarray]:
        classes = self.fixed_classes if self.config.conditional else None
        return {"images": self.sample(self.fixed_z, classes), "classes": self.fixed_classes}

    def save_samples(self, path, step: int) -> np.ndarray:
        rows, cols = GRID[self.config.model]
        grid = tile(self.samples(step)["images"], rows, cols)
        save_image(grid, path)
        return grid


def load_image_gan(run_dir) -> tuple[ImageGAN, int]:
    """The family of a trained run folder (models restored at the newest checkpoint), for
    metrics, figures and notebooks: ``family.sample(z, classes)`` draws faces."""
    from pathlib import Path

    from gan_repro.io import read_json
    from gan_repro.training.state import restore_trained

    saved = read_json(Path(run_dir) / "config.json")
    config = ImageGANConfig(**saved["model"])
    family = ImageGAN(
        config,
        np.zeros((1, *config.image_shape), np.uint8),
        np.zeros(1, np.int64),
        seed=saved["trainer"]["seed"],
    )
    family.build()
    return family, restore_trained(run_dir, family.models)
