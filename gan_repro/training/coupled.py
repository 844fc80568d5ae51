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

Where the thesis text and the authors' code (which produced Tables 5.2/7.1) differ, the default
follows the code and the text's form is an option (spec 10):

* ``shared_update="sequential"``: D1 is stepped, then D2 at the updated weights; G1's, G2's and
  the encoder's gradients are taken at one point and applied in turn, with one Adam for the
  generator side and one for the discriminators (spec 10.1-10.2); ``"sum"`` steps a shared
  variable once on its owners' summed gradient, the joint objective of CoGAN Eq 3.1;
* ``encoder_training=False``: the authors call the CC encoder without a training flag, i.e. in
  inference mode (dropout off) in their eager loop (Listing 6.16, L1604-1623);
* ``generator_options["prelu"]="element"``: Keras' per-element PReLU of the authors' nets
  (spec 10.3) rather than Caffe's per-channel one.

The generators, discriminators and encoder are built by registry name
(:data:`gan_repro.registry.NETWORKS`): any coupled builder that returns a ``(net1, net2)`` pair
from ``shared_layers`` and its own options trains here unchanged. The generators, discriminators
and the classifier run with ``training=True`` / ``False`` as in the authors' code (spec 10.2);
samples and metrics use inference mode (spec 9.12).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import keras
import numpy as np
import tensorflow as tf

import gan_repro.models  # noqa: F401  (fills NETWORKS)
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
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training.family import Family, GradientRouter
from gan_repro.training.randomness import fixed_uniform, uniform_stream
from gan_repro.viz.grids import coupled_grid, save_image

GRID_SAMPLES = 8  # rows 1-2: G1 on 8 z; rows 3-4: G2 on the same 8 z (L667, L699)


def _table_3_1_options() -> dict:
    """The Table 3.1 builder's options as the authors' code sets them (spec 10.1, 10.3)."""
    return {"use_firstlayer": False, "init": "xavier", "prelu": "element"}


def _table_3_2_options() -> dict:
    """The Table 3.2 builder's options (dropout 0.5 after FC-500, Table 3.2; spec 10.3)."""
    return {"init": "xavier", "dropout": 0.5}


@dataclass
class CoupledConfig:
    """Hyper-parameters of a coupled/soft-coupled run (defaults: SCoGAN Ch.5 MNIST2SVHN, L996,
    with the authors' code where it differs from the text, spec 10)."""

    loss: str = "wgan-gp"  # "ns" | "wgan" | "wgan-gp"
    n_critic: int = 5
    gp_weight: float = GP_WEIGHT
    batch_size: int = 128
    noise_dim: int = 100
    #: Registered builders (gan_repro.registry.NETWORKS). A coupled generator/discriminator
    #: builder is called as ``build(shared_layers=..., [noise_dim=...,] **options)`` and returns
    #: a pair; generators return ``[features..., image]`` lists (Listing 6.7).
    generators: str = "cogan_generators_32"  # Table 3.1
    discriminators: str = "cogan_discriminators_32"  # Table 3.2
    encoder: str = "cc_encoder_32"  # the authors' Nets.encoder (spec 10.4), built if cc_weight>0
    #: CoGAN: 4 (Table 3.1). SCoGAN: 0 by the text (L871, L996); the authors' noshare generator
    #: still shares its FC+BN+PReLU block (spec 10.3), which is 1 here.
    shared_generator_layers: int = 0
    shared_discriminator_layers: int = 0  # CoGAN: 3 (Table 3.2)
    #: Builder-specific keyword arguments. Table 3.1 builder: ``use_firstlayer`` (the optional
    #: ConvT(1024,4,1) row, off in the code, spec 9.1), ``init`` ("xavier" = Glorot normal as
    #: the text says, L239-241; the code's glorot_uniform is "xavier_uniform", spec 9.14),
    #: ``prelu`` ("element": the authors' Keras PReLU, one slope per element, 8,116,099
    #: parameters per generator, spec 10.3; "channel": Caffe's one slope per channel). Another
    #: builder takes its own options: replace the whole dict.
    generator_options: dict = field(default_factory=_table_3_1_options)
    discriminator_options: dict = field(default_factory=_table_3_2_options)
    #: "sequential": the authors' loop (spec 10.1-10.2): D1 then D2 stepped in turn, the G1, G2
    #: and encoder gradients taken at one point then applied in turn, one Adam per side, so a
    #: shared variable is stepped once per owner. "sum": one Adam per model and one step of a
    #: shared variable on the summed gradient, the joint objective of CoGAN Eq 3.1.
    shared_update: str = "sequential"
    #: The CC encoder's training flag: the authors call ``self.encoder(img)`` without one, i.e.
    #: inference mode in their eager loop (dropout 0.4 off; Listing 6.16, L1604-1623, spec 10.4).
    encoder_training: bool = False
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
    #: Log ``weight_diff`` = sum over corresponding G1/G2 trainable variables of
    #: mean((W_G1 - W_G2)^2) after each step, Fig 4.1 (L869-871, spec 5.4).
    log_weight_difference: bool = False

    def __post_init__(self):
        adversarial_losses(self.loss)  # refuses unknown names with the choices
        check_choice("cc_distance", self.cc_distance, ("l1", "l2"))
        check_choice("shared_update", self.shared_update, GradientRouter.MODES)
        if self.n_critic < 1 or self.batch_size < 1:
            raise BadOptionError("n_critic and batch_size must be positive integers")
        self.generator_options = dict(self.generator_options)
        self.discriminator_options = dict(self.discriminator_options)

    @property
    def uses_perceptual(self) -> bool:
        return self.pl_content_weight > 0 or self.pl_style_weight > 0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CoupledConfig:
        """A config from a run's ``config.json`` ``model`` section. Runs written before the
        builder options moved into ``generator_options``/``discriminator_options`` (flat
        ``init``/``use_firstlayer``/``dropout``) were trained with Caffe per-channel PReLU and
        summed shared updates; they are read back as such."""
        d = dict(d)
        legacy = {k: d.pop(k) for k in ("init", "use_firstlayer", "dropout") if k in d}
        if legacy and "generator_options" not in d:
            d["generator_options"] = {
                "use_firstlayer": legacy.get("use_firstlayer", False),
                "init": legacy.get("init", "xavier"),
                "prelu": "channel",
            }
            d["discriminator_options"] = {
                "init": legacy.get("init", "xavier"),
                "dropout": legacy.get("dropout", 0.5),
            }
            d.setdefault("shared_update", "sum")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def build_generators(config: CoupledConfig) -> tuple[keras.Model, keras.Model]:
    """The (G1, G2) pair of ``config``: ``config.generators`` with its shared blocks and options."""
    offered = {"shared_layers": config.shared_generator_layers, "noise_dim": config.noise_dim}
    return NETWORKS.build_offered(
        config.generators, offered, config.generator_options, required=offered
    )


def build_discriminators(config: CoupledConfig) -> tuple[keras.Model, keras.Model]:
    offered = {"shared_layers": config.shared_discriminator_layers}
    return NETWORKS.build_offered(
        config.discriminators, offered, config.discriminator_options, required=offered
    )


def weight_difference(g1: keras.Model, g2: keras.Model) -> tf.Tensor:
    """Fig 4.1's weight difference (L869-871, spec 5.4): ``sum_v mean((W1_v - W2_v)^2)`` over the
    corresponding trainable variables of G1 and G2 (same position in both models). A shared
    variable contributes 0; so CoGAN's value comes from its unshared layers only."""
    terms = [
        tf.reduce_mean(tf.square(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))
        for a, b in zip(g1.trainable_variables, g2.trainable_variables, strict=True)
    ]
    return tf.add_n(terms) if terms else tf.constant(0.0)


def check_corresponding(g1: keras.Model, g2: keras.Model) -> None:
    """Refuse a pair whose trainable variables do not correspond one to one (the weight
    difference compares them position by position)."""
    s1 = [tuple(v.shape) for v in g1.trainable_variables]
    s2 = [tuple(v.shape) for v in g2.trainable_variables]
    if s1 != s2:
        raise BadOptionError(
            "log_weight_difference needs G1 and G2 with the same variables in the same order; "
            f"got shapes {s1} and {s2}"
        )


@FAMILIES.register("coupled", source="CoGAN / SCoGAN pair, SCoGAN thesis Ch.3-4")
class CoupledGAN(Family):
    """Two GANs on one z, coupled by shared layers (CoGAN) and/or regularisers (SCoGAN).

    ``domain1``/``domain2`` are uint8 image arrays ``[N, 32, 32, 3]``; ``classifier`` is the
    frozen Table B.1 net (needed when ``sl_weight > 0``); ``vgg`` is the frozen VGG19 feature
    dict model (needed when PL is on, see :func:`gan_repro.losses.vgg19_features`).
    """

    Config = CoupledConfig
    inputs = ("domain1", "domain2")
    resources = ("classifier", "vgg")

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
        g1, g2 = build_generators(c)
        d1, d2 = build_discriminators(c)
        if c.log_weight_difference:
            check_corresponding(g1, g2)
        self.models = {"g1": g1, "g2": g2, "d1": d1, "d2": d2}
        if c.cc_weight > 0:
            offered = {"noise_dim": c.noise_dim}
            self.models["encoder"] = NETWORKS.build_offered(c.encoder, offered, required=offered)

        def adam():
            return keras.optimizers.Adam(c.lr, beta_1=c.beta_1, beta_2=c.beta_2)

        gen_names = [n for n in ("g1", "g2", "encoder") if n in self.models]
        if c.shared_update == "sequential":
            # one Adam for G1, G2 and the encoder, one for D1 and D2 (spec 10.1)
            self.optimizers = {"g": adam(), "d": adam()}
            route = {n: self.optimizers[n[0] if n != "encoder" else "g"] for n in self.models}
        else:
            self.optimizers = {name: adam() for name in self.models}
            route = self.optimizers
        self.g_router = GradientRouter(
            {n: self.models[n] for n in gen_names},
            {n: route[n] for n in gen_names},
            c.shared_update,
        )
        self.d_router = GradientRouter(
            {n: self.models[n] for n in ("d1", "d2")},
            {n: route[n] for n in ("d1", "d2")},
            c.shared_update,
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
        with tf.GradientTape(persistent=True) as tape:
            losses, g_logs = self.generator_losses(batch["z_gen"], last_real, num_replicas)
        self.g_router.apply(tape, losses)
        del tape
        logs.update(g_logs)
        if c.log_weight_difference:  # after this step's updates (Fig 4.1)
            logs["weight_diff"] = weight_difference(m["g1"], m["g2"])
        return logs

    def generator_losses(self, z, last_real, num_replicas: int):
        """The generator step's losses on z (call inside a GradientTape): ``(losses, logs)`` with
        ``losses[name]`` what model ``name`` minimises, divided by ``num_replicas``:
        ``L_Gi = adv_i + FR + SL + CC + PL_content + PL_style_i`` (spec 2.7) and the encoder's
        raw CC term (L1604); ``logs`` holds the unscaled terms."""
        m = self.models
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
        logs = {"g1": g1_loss, "g2": g2_loss, "adv1": adv1, "adv2": adv2, **terms}
        return losses, logs

    def _critic_step(self, z, reals, alpha, num_replicas):
        """D1's and D2's updates on one z. "sequential": D1 is stepped, then D2's loss is taken
        at the updated (shared) weights, as in the authors' loop (Listing 6.12, spec 10.2);
        "sum": both losses at one point, a shared variable stepped on their summed gradient."""
        m = self.models
        logs = {}
        pairs = ((m["g1"], m["d1"], reals[0]), (m["g2"], m["d2"], reals[1]))
        if self.config.shared_update == "sequential":
            for k, (g, d, real) in enumerate(pairs, start=1):
                with tf.GradientTape() as tape:
                    loss = self._critic_loss(k, g, d, z, real, alpha, logs) / num_replicas
                self.d_router.apply(tape, {f"d{k}": loss})
            return logs
        losses = {}
        with tf.GradientTape(persistent=True) as tape:
            for k, (g, d, real) in enumerate(pairs, start=1):
                loss = self._critic_loss(k, g, d, z, real, alpha, logs)
                losses[f"d{k}"] = loss / num_replicas
        self.d_router.apply(tape, losses)
        del tape
        return logs

    def _critic_loss(self, k, g, d, z, real, alpha, logs):
        """Critic ``k``'s loss (+ lambda*GP, Eq 2.1) on G_k(z) and a real batch; logs its terms."""
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
            loss = loss + self.config.gp_weight * gp
        logs[f"d{k}"] = loss
        return loss

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
                enc(img1, training=c.encoder_training),
                enc(img2, training=c.encoder_training),
                z,
                c.cc_distance,
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
    """G1, G2 of a coupled run folder at its newest checkpoint (for metrics and notebooks),
    built by :func:`build_generators` from the run's ``config.json`` as in training.

    Returns ``(g1, g2, config, step)``; refuses a folder without a checkpoint.
    """
    from pathlib import Path

    from gan_repro.runs import read_json
    from gan_repro.training.state import restore_trained

    run_dir = Path(run_dir)
    config = CoupledConfig.from_dict(read_json(run_dir / "config.json")["model"])
    g1, g2 = build_generators(config)
    step = restore_trained(run_dir, {"g1": g1, "g2": g2})
    return g1, g2, config, step
