"""The coupled (CoGAN) and soft-coupled (SCoGAN) GAN pair: one family, one replica step.

CoGAN and SCoGAN differ only by how many layers the pair shares and by which regularisers enter
the generator losses (SCoGAN thesis Ch. 3-4, spec 2 and 10.2), so one step serves both:

1. ``n_critic`` critic iterations (5 with WGAN-GP, L886). Each draws one z for both generators
   and new real batches for both domains, and updates D1 and D2 on their own losses
   (+ lambda*GP, Eq 2.1), as the authors' loop does (spec 10.2).
2. One generator step on a new z:
   ``L_Gi = adv_i + a_FR*FR + a_SL*SL + a_CC*CC + (PL_content + PL_style_i)`` (spec 2.7),
   where FR compares the first K generator outputs (Eq 4.1), SL the frozen classifier's softmax
   outputs (Eq 4.2), CC the encoder's reconstructions of z (Eq 4.3) and PL VGG19 features
   (Eq 4.5) with the style term against the last critic iteration's real batch of each domain.
   The encoder minimises the raw CC term in the same step (L1604).

All models run with ``training=True`` during training, as in the authors' code; samples and
metrics use inference mode (spec 9.12).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np
import tensorflow as tf

from gan_repro.data.pipeline import image_stream
from gan_repro.errors import BadOptionError, check_choice
from gan_repro.losses import (
    GP_WEIGHT,
    adversarial_losses,
    feature_regulariser,
    gradient_penalty,
    latent_cycle_loss,
    perceptual_losses,
    semantic_loss,
)
from gan_repro.models.classifiers import cc_encoder_32
from gan_repro.models.cogan32 import cogan_discriminators_32, cogan_generators_32
from gan_repro.training.family import Family, GradientRouter
from gan_repro.training.randomness import fixed_uniform, uniform_stream
from gan_repro.viz.grids import coupled_grid, save_image

GRID_SAMPLES = 8  # rows 1-2: G1 on 8 z; rows 3-4: G2 on the same 8 z (L667, L699)


@dataclass
class CoupledConfig:
    """Hyper-parameters of a coupled/soft-coupled run (defaults: SCoGAN Ch.5 MNIST2SVHN, L996)."""

    loss: str = "wgan-gp"  # "ns" | "wgan" | "wgan-gp"
    n_critic: int = 5
    gp_weight: float = GP_WEIGHT
    batch_size: int = 128
    noise_dim: int = 100
    shared_generator_layers: int = 0  # CoGAN: 4
    shared_discriminator_layers: int = 0  # CoGAN: 3
    use_firstlayer: bool = False
    init: str = "xavier"
    dropout: float = 0.5
    lr: float = 2e-4  # "ADAM with DCGAN settings" (L996)
    beta_1: float = 0.5
    beta_2: float = 0.999
    fr_weight: float = 0.0
    fr_layers: int = 3
    sl_weight: float = 0.0
    cc_weight: float = 0.0
    cc_distance: str = "l1"
    pl_content_weight: float = 0.0
    pl_style_weight: float = 0.0

    def __post_init__(self):
        adversarial_losses(self.loss)  # refuses unknown names with the choices
        check_choice("cc_distance", self.cc_distance, ("l1", "l2"))
        if self.n_critic < 1 or self.batch_size < 1:
            raise BadOptionError("n_critic and batch_size must be positive integers")

    @property
    def uses_perceptual(self) -> bool:
        return self.pl_content_weight > 0 or self.pl_style_weight > 0

    def as_dict(self) -> dict:
        return asdict(self)


class CoupledGAN(Family):
    """Two GANs on one z, coupled by shared layers (CoGAN) and/or regularisers (SCoGAN).

    ``domain1``/``domain2`` are uint8 image arrays ``[N, 32, 32, 3]``; ``classifier`` is the
    frozen Table B.1 net (needed when ``sl_weight > 0``); ``vgg`` is the frozen VGG19 feature
    dict model (needed when PL is on, see :func:`gan_repro.losses.vgg19_features`).
    """

    def __init__(
        self,
        config: CoupledConfig,
        domain1: np.ndarray,
        domain2: np.ndarray,
        seed: int = 2020,
        classifier: keras.Model | None = None,
        vgg: keras.Model | None = None,
    ):
        self.config = config
        self.domains = (domain1, domain2)
        self.seed = seed
        self.classifier = classifier
        self.vgg = vgg
        if config.sl_weight > 0 and classifier is None:
            raise BadOptionError("sl_weight > 0 needs the pretrained Table B.1 classifier")
        if config.uses_perceptual and vgg is None:
            raise BadOptionError("the perceptual loss needs the VGG19 feature model")
        self.d_fn, self.g_fn = adversarial_losses(config.loss)
        self.use_gp = config.loss == "wgan-gp"

    # -- construction ----------------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        g1, g2 = cogan_generators_32(
            shared_layers=c.shared_generator_layers,
            noise_dim=c.noise_dim,
            use_firstlayer=c.use_firstlayer,
            init=c.init,
        )
        d1, d2 = cogan_discriminators_32(
            shared_layers=c.shared_discriminator_layers, init=c.init, dropout=c.dropout
        )
        self.models = {"g1": g1, "g2": g2, "d1": d1, "d2": d2}
        if c.cc_weight > 0:
            self.models["encoder"] = cc_encoder_32(noise_dim=c.noise_dim)

        def adam():
            return keras.optimizers.Adam(c.lr, beta_1=c.beta_1, beta_2=c.beta_2)

        self.optimizers = {name: adam() for name in self.models}
        gen_names = [n for n in ("g1", "g2", "encoder") if n in self.models]
        self.g_router = GradientRouter(
            {n: self.models[n] for n in gen_names}, {n: self.optimizers[n] for n in gen_names}
        )
        self.d_router = GradientRouter(
            {n: self.models[n] for n in ("d1", "d2")},
            {n: self.optimizers[n] for n in ("d1", "d2")},
        )
        self.g_router.build()
        self.d_router.build()
        self.fixed_z = fixed_uniform(self.seed, (GRID_SAMPLES, c.noise_dim))

    # -- input stream ----------------------------------------------------------------------
    def dataset(self, start_step: int) -> tf.data.Dataset:
        c = self.config
        per_step = c.batch_size * c.n_critic
        reals = [
            image_stream(
                images,
                batch_size=c.batch_size,
                seed=self.seed + 101 * (i + 1),
                start=start_step * per_step,
                group=c.n_critic,
            )
            for i, images in enumerate(self.domains)
        ]
        noise = uniform_stream(
            self.seed,
            start_step,
            {
                "z_critic": (c.batch_size, c.n_critic, c.noise_dim),
                "z_gen": (c.batch_size, c.noise_dim),
                "alpha": (c.batch_size, c.n_critic, 2),
            },
            low={"z_critic": -1.0, "z_gen": -1.0},  # z ~ U[-1,1] (L996, L1103)
        )

        def merge(x1, x2, rnd):
            if c.n_critic == 1:  # image_stream only adds the group axis for group > 1
                x1, x2 = x1[:, None], x2[:, None]
            return {"x1": x1, "x2": x2, **rnd}

        return tf.data.Dataset.zip((*reals, noise)).map(merge).prefetch(tf.data.AUTOTUNE)

    # -- the replica step ------------------------------------------------------------------
    def train_step(self, batch, num_replicas: int) -> dict[str, tf.Tensor]:
        c, m = self.config, self.models
        logs: dict[str, tf.Tensor] = {}
        for i in range(c.n_critic):
            d_logs = self._critic_step(
                batch["z_critic"][:, i],
                (batch["x1"][:, i], batch["x2"][:, i]),
                batch["alpha"][:, i],
                num_replicas,
            )
        logs.update(d_logs)
        last_real = (batch["x1"][:, -1], batch["x2"][:, -1])
        z = batch["z_gen"]
        with tf.GradientTape(persistent=True) as tape:
            out1 = m["g1"](z, training=True)
            out2 = m["g2"](z, training=True)
            img1, img2 = out1[-1], out2[-1]
            adv1 = self.g_fn(m["d1"](img1, training=True))
            adv2 = self.g_fn(m["d2"](img2, training=True))
            shared, own1, own2, terms = self._coupling_terms(out1, out2, z, last_real)
            g1_loss = adv1 + shared + own1
            g2_loss = adv2 + shared + own2
            losses = {"g1": g1_loss / num_replicas, "g2": g2_loss / num_replicas}
            if "encoder" in m:
                losses["encoder"] = terms["cc"] / num_replicas
        self.g_router.apply(tape, losses)
        del tape
        logs.update({"g1": g1_loss, "g2": g2_loss, "adv1": adv1, "adv2": adv2, **terms})
        return logs

    def _critic_step(self, z, reals, alpha, num_replicas):
        m, c = self.models, self.config
        logs, losses = {}, {}
        with tf.GradientTape(persistent=True) as tape:
            for k, (g, d, real) in enumerate(
                ((m["g1"], m["d1"], reals[0]), (m["g2"], m["d2"], reals[1])), start=1
            ):
                fake = tf.stop_gradient(g(z, training=True)[-1])
                n = tf.shape(real)[0]
                # one critic call on real+fake: D has no batch-dependent layer (Table 3.2)
                scores = d(tf.concat([real, fake], axis=0), training=True)
                loss = self.d_fn(scores[:n], scores[n:])
                logs[f"d{k}_adv"] = loss
                if self.use_gp:
                    a = tf.reshape(alpha[:, k - 1], (-1, 1, 1, 1))
                    gp = gradient_penalty(lambda x, d=d: d(x, training=True), real, fake, a)
                    logs[f"gp{k}"] = gp
                    loss = loss + c.gp_weight * gp
                logs[f"d{k}"] = loss
                losses[f"d{k}"] = loss / num_replicas
        self.d_router.apply(tape, losses)
        del tape
        return logs

    def _coupling_terms(self, out1, out2, z, last_real):
        """Weighted regularisers: (common to both G losses, G1-only, G2-only, raw terms)."""
        c = self.config
        zero = tf.constant(0.0)
        shared, own1, own2, terms = zero, zero, zero, {}
        img1, img2 = out1[-1], out2[-1]
        if c.fr_weight > 0:
            terms["fr"] = feature_regulariser(list(out1), list(out2), c.fr_layers)
            shared += c.fr_weight * terms["fr"]
        if c.sl_weight > 0:
            p1 = self.classifier(img1, training=False)
            p2 = self.classifier(img2, training=False)
            terms["sl"] = semantic_loss(p1, p2)
            shared += c.sl_weight * terms["sl"]
        if c.cc_weight > 0:
            enc = self.models["encoder"]
            terms["cc"] = latent_cycle_loss(
                enc(img1, training=True), enc(img2, training=True), z, c.cc_distance
            )
            shared += c.cc_weight * terms["cc"]
        if c.uses_perceptual:
            f1, f2 = self.vgg(img1), self.vgg(img2)
            r1, r2 = self.vgg(last_real[0]), self.vgg(last_real[1])
            content, style1, style2 = perceptual_losses(
                f1, f2, r1, r2, c.pl_content_weight, c.pl_style_weight
            )
            terms.update({"pl_content": content, "pl_style1": style1, "pl_style2": style2})
            shared += content
            own1 += style1
            own2 += style2
        return shared, own1, own2, terms

    # -- samples ---------------------------------------------------------------------------
    def generate(self, z) -> tuple[np.ndarray, np.ndarray]:
        """G1(z), G2(z) images in [-1, 1], inference mode."""
        return (
            np.asarray(self.models["g1"](z, training=False)[-1]),
            np.asarray(self.models["g2"](z, training=False)[-1]),
        )

    def samples(self, step: int) -> dict[str, np.ndarray]:
        img1, img2 = self.generate(self.fixed_z)
        return {"domain1": img1, "domain2": img2}

    def save_samples(self, path, step: int) -> np.ndarray:
        s = self.samples(step)
        grid = coupled_grid(s["domain1"], s["domain2"])
        save_image(grid, path)
        return grid


def load_generators(run_dir) -> tuple[keras.Model, keras.Model, CoupledConfig, int]:
    """G1, G2 of a coupled run folder at its newest checkpoint (for metrics and notebooks).

    Returns ``(g1, g2, config, step)``; refuses a folder without a checkpoint.
    """
    from pathlib import Path

    from gan_repro.runs import read_json
    from gan_repro.training.state import restore_trained

    run_dir = Path(run_dir)
    config = CoupledConfig(**read_json(run_dir / "config.json")["model"])
    g1, g2 = cogan_generators_32(
        shared_layers=config.shared_generator_layers,
        noise_dim=config.noise_dim,
        use_firstlayer=config.use_firstlayer,
        init=config.init,
    )
    step = restore_trained(run_dir, {"g1": g1, "g2": g2})
    return g1, g2, config, step
