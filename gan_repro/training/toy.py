"""The toy GAN of the mode-collapse experiment (SCoGAN thesis section 2.3.2 and 2.5, Table 2.1).

Settings (L390): ``gen_lr = disc_lr = 0.0001, z_size = 10, k = 1, ADAM, batch_size = 100,
iterations = 2000``; k = 5 discriminator iterations per generator step make the NS GAN collapse
to "6 out of 10 modes" (L392, Fig 2.11); WGAN-GP on that k = 5 setting "with its recommended
hyperparameter settings" (Adam beta1 = 0, beta2 = 0.9, lr = 1e-4, lambda = 10; L486-488) learns
the shape in 3,000 iterations (Fig 2.14). The experiment was reused from the authors' previous
project (L372); what the thesis leaves open is taken from their code of that time (``Train.py``,
``Nets.toy_gen/toy_disc``, ``Data.createToyDataRing``):

* Adam for NS with Keras' default betas (0.9, 0.999): that code builds ``Adam(lr)`` with the
  lr 1e-4 defaults; WGAN-GP uses (0.0, 0.9) as L486 recommends (``beta_1/beta_2=None`` picks
  these per loss).
* z ~ N(0, 1) (``tf.random.normal``); the image models of the thesis use U[-1, 1] (L996), the
  toy code does not. ``noise="uniform"`` switches to U[-1, 1].
* One **iteration** (one trainer step) = k discriminator updates, each on a new real batch and
  new noise (the generator run on that noise in training mode, its output held fixed), then
  one generator update on new noise. NS: BCE on logits (``from_logits=True`` in the code, the
  NS losses of :mod:`gan_repro.losses`); WGAN-GP: ``mean D(G(z)) - mean D(x) + 10*GP`` with
  ``x_hat = x + alpha*(G(z) - x)``, alpha ~ U[0, 1] per point.

The authors' loop counted "epochs" of ``5100 // 100 // k`` generator steps; the thesis says
"iterations", and here an iteration is one generator step (see the report of the ring runs).

Every random draw of a step (the real batch order, the k+1 noise batches, the GP alphas) comes
from the input stream as a function of ``(seed, step)``, so a resumed run is the same run and a
multi-replica strategy splits the same global draw. ``save_samples`` writes a scatter PNG of
the generated points (fixed noise) over the real ring and the raw points as
``points_XXXXXX.npy`` beside it, for :func:`gan_repro.viz.ring.training_figure`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import gan_repro.models.toy  # noqa: F401  (registers the Table 2.1 builders)
from gan_repro.data.ring import points_stream, ring_points
from gan_repro.errors import BadOptionError, check_choice
from gan_repro.losses import GP_WEIGHT, adversarial_losses, gradient_penalty
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training.family import Family, descend
from gan_repro.training.randomness import fixed_normal, fixed_uniform, uniform_stream
from gan_repro.viz.grids import save_image

__all__ = ["TOY_LOSSES", "ToyGAN", "ToyGANConfig"]

TOY_LOSSES = ("ns", "wgan-gp")
#: Adam betas per loss: the toy code's Keras defaults for NS; WGAN-GP's recommendation (L486).
BETAS = {"ns": (0.9, 0.999), "wgan-gp": (0.0, 0.9)}


@dataclass
class ToyGANConfig:
    """Hyper-parameters of one ring run (defaults: Fig 2.10, NS with k=1, L390)."""

    loss: str = "ns"  # "ns" | "wgan-gp"
    n_critic: int = 1  # k: discriminator updates per generator update (L390-392)
    lr: float = 1e-4  # gen_lr = disc_lr (L390)
    beta_1: float | None = None  # None: 0.9 for NS, 0.0 for WGAN-GP (L486)
    beta_2: float | None = None  # None: 0.999 for NS, 0.9 for WGAN-GP (L486)
    gp_weight: float = GP_WEIGHT  # lambda (L479)
    batch_size: int = 100  # L390
    z_size: int = 10  # L390 (Table 2.1's Input row says 100)
    noise: str = "normal"  # "normal" (the toy code) | "uniform" (U[-1, 1])
    generator: str = "toy_ring_generator"
    discriminator: str = "toy_ring_discriminator"
    sample_points: int = 1000  # points at the fixed noise in each saved sample

    def __post_init__(self):
        check_choice("loss", self.loss, TOY_LOSSES)
        check_choice("noise", self.noise, ("normal", "uniform"))
        if self.n_critic < 1 or self.batch_size < 1 or self.z_size < 1:
            raise BadOptionError("n_critic, batch_size and z_size must be positive integers")
        if self.sample_points < 1:
            raise BadOptionError("sample_points must be a positive integer")
        b1, b2 = BETAS[self.loss]
        self.beta_1 = b1 if self.beta_1 is None else float(self.beta_1)
        self.beta_2 = b2 if self.beta_2 is None else float(self.beta_2)

    def as_dict(self) -> dict:
        return asdict(self)


@FAMILIES.register("toy", source="SCoGAN thesis Table 2.1 and L390-392, L486-488 (toy ring)")
class ToyGAN(Family):
    """NS or WGAN-GP GAN of Table 2.1 on 2D ``points`` [N, 2] (the ring of Fig 2.9)."""

    Config = ToyGANConfig
    inputs = ("points",)

    def __init__(self, config: ToyGANConfig, points: np.ndarray | None = None, seed: int = 2020):
        self.config = config
        self.points = ring_points(seed=seed) if points is None else np.asarray(points, np.float32)
        if self.points.ndim != 2 or self.points.shape[1] != 2:
            raise BadOptionError(f"ToyGAN trains on 2D points [N, 2]; got {self.points.shape}")
        self.seed = int(seed)
        self.d_fn, self.g_fn = adversarial_losses(config.loss)
        self.use_gp = config.loss == "wgan-gp"

    # -- construction ----------------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        self.models = {
            "g": NETWORKS.build(c.generator, z_size=c.z_size),
            "d": NETWORKS.build(c.discriminator),
        }
        self.optimizers = {
            name: keras.optimizers.Adam(c.lr, beta_1=c.beta_1, beta_2=c.beta_2)
            for name in self.models
        }
        for name, opt in self.optimizers.items():
            opt.build(self.models[name].trainable_variables)
        self.fixed_z = self._noise_fixed(self.seed, c.sample_points)

    def _noise_fixed(self, seed: int, n: int) -> tf.Tensor:
        shape = (n, self.config.z_size)
        if self.config.noise == "normal":
            return fixed_normal(seed, shape)
        return fixed_uniform(seed, shape, low=-1.0)

    # -- input stream ----------------------------------------------------------------------
    def dataset(self, start_step: int) -> tf.data.Dataset:
        c = self.config
        b, k = c.batch_size, c.n_critic
        real = points_stream(
            self.points, batch_size=b, seed=self.seed + 101, start=start_step * b * k, group=k
        )
        normal = ("z_critic", "z_gen") if c.noise == "normal" else ()
        noise = uniform_stream(
            self.seed,
            start_step,
            {"z_critic": (b, k, c.z_size), "z_gen": (b, c.z_size), "alpha": (b, k, 1)},
            low={"z_critic": -1.0, "z_gen": -1.0},
            normal=normal,
        )

        def merge(x, rnd):
            return {"x": x, **rnd}

        return tf.data.Dataset.zip((real, noise)).map(merge).prefetch(tf.data.AUTOTUNE)

    # -- the replica step ------------------------------------------------------------------
    def train_step(self, batch, num_replicas: int) -> dict[str, tf.Tensor]:
        c, g, d = self.config, self.models["g"], self.models["d"]
        d_losses, wds, gps = [], [], []
        for i in range(c.n_critic):
            real = batch["x"][:, i]
            with tf.GradientTape() as tape:
                fake = tf.stop_gradient(g(batch["z_critic"][:, i], training=True))
                real_s, fake_s = d(real, training=True), d(fake, training=True)
                loss = self.d_fn(real_s, fake_s)
                if self.use_gp:
                    wds.append(-loss)  # E D(x) - E D(G(z)), the WD estimate
                    gp = gradient_penalty(
                        lambda x: d(x, training=True), real, fake, batch["alpha"][:, i]
                    )
                    gps.append(gp)
                    loss = loss + c.gp_weight * gp
                scaled = loss / num_replicas
            descend(self.optimizers["d"], tape, scaled, d.trainable_variables)
            d_losses.append(loss)
        with tf.GradientTape() as tape:
            g_loss = self.g_fn(d(g(batch["z_gen"], training=True), training=True))
            scaled = g_loss / num_replicas
        descend(self.optimizers["g"], tape, scaled, g.trainable_variables)
        # the authors log the mean of the k discriminator losses of the iteration
        logs = {"d_loss": tf.add_n(d_losses) / c.n_critic, "g_loss": g_loss}
        if self.use_gp:
            logs["wd"] = tf.add_n(wds) / c.n_critic
            logs["gp"] = tf.add_n(gps) / c.n_critic
        return logs

    # -- samples ---------------------------------------------------------------------------
    def sample(self, z) -> np.ndarray:
        """G(z) in inference mode, float32 [N, 2], in chunks of 65,536."""
        g = self.models["g"]
        z = tf.convert_to_tensor(z, tf.float32)
        parts = [g(z[i : i + 65536], training=False) for i in range(0, int(z.shape[0]), 65536)]
        return np.concatenate([np.asarray(p) for p in parts], axis=0).astype(np.float32)

    def generate(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated points for metrics, from noise drawn with the stateless seed
        ``(seed, -2)`` (``seed`` defaults to the run's; independent of the training stream and
        of the fixed sample noise)."""
        seed = self.seed if seed is None else int(seed)
        shape = (int(n), self.config.z_size)
        pair = tf.constant([seed, -2], tf.int64)
        if self.config.noise == "normal":
            z = tf.random.stateless_normal(shape, seed=pair)
        else:
            z = tf.random.stateless_uniform(shape, seed=pair, minval=-1.0, maxval=1.0)
        return self.sample(z)

    def samples(self, step: int) -> dict[str, np.ndarray]:
        return {"points": self.sample(self.fixed_z)}

    def save_samples(self, path, step: int) -> np.ndarray:
        """Scatter of the fixed-noise points over the real ring -> ``path`` (PNG); the points
        themselves -> ``points_XXXXXX.npy`` in the same folder. Returns the RGB uint8 image."""
        from gan_repro.viz.ring import scatter_image

        path = Path(path)
        points = self.samples(step)["points"]
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.parent / f"points_{step:06d}.npy", points)
        image = scatter_image(points, self.points, title=f"iteration {step}")
        save_image(image, path)
        return image
