"""The UNIT family: two VAE-GANs coupled by a shared latent space (Liu, Breuel & Kautz 2017).

The UNIT of the CycleGAN-vs-UNIT thesis (Wang 2018, section 6.2.2, L441-443; spec 003 section
1.2). The thesis writes the objective (L400-411) but not its terms, its weights or its training
loop; they come from the UNIT paper (Eqs 3-5) and the 2017 code it describes (``mingyuliutw/UNIT``,
``cocogan_trainer.py``, ``exps/unit/*.yaml``). One training step is the code's ``dis_update``
then ``gen_update``:

1. **Discriminators** (one Adam over D_A and D_B, their shared layers counted once)::

       lambda_0 * [BCE(D_A(a), 1) + BCE(D_A(x_ba), 0) + BCE(D_B(b), 1) + BCE(D_B(x_ab), 0)]

   with ``x_ba = G_A(E_B(b) + eps)`` and ``x_ab = G_B(E_A(a) + eps)`` (fresh noise).
2. **Encoders and generators** (one Adam over E_A, E_B, G_A, G_B, shared blocks counted once).
   With ``z_a = E_A(a) + eps``, ``z_b = E_B(b) + eps``, the reconstructions ``x_aa = G_A(z_a)``,
   ``x_bb = G_B(z_b)``, the translations ``x_ab = G_B(z_a)``, ``x_ba = G_A(z_b)`` and the cycles
   ``x_aba = G_A(z_ab)``, ``z_ab = E_B(x_ab) + eps`` (and ``x_bab`` likewise)::

       lambda_0 * [BCE(D_A(x_ba), 1) + BCE(D_B(x_ab), 1)]                     GAN, Eq 4
     + lambda_1 * [KL(z_a) + KL(z_b)] + lambda_2 * [|x_aa - a| + |x_bb - b|]  VAE, Eq 3
     + lambda_3 * [KL(z_ab) + KL(z_ba)] + lambda_4 * [|x_aba - a| + |x_bab - b|]  CC, Eq 5

   lambda_0..4 = 10, 0.1, 100, 0.1, 100 (``gan_w``, ``kl_direct_link_w``, ``ll_direct_link_w``,
   ``kl_cycle_link_w``, ``ll_cycle_link_w`` of the code's configs). |.| is the mean absolute
   error (``nn.L1Loss``: the Laplacian log-likelihood up to scale), BCE is on the logits.

``objective`` says whose KL:

* ``"code"`` (default): the 2017 code's ``_compute_kl``, ``mean(z ** 2)`` of the *noisy* latent
  (``enc_shared`` ends in ``GaussianNoiseLayer``), and no other KL term.
* ``"paper"``: Eqs 3-5 as written: the KL of ``q(z|x) = N(mu, I)`` from ``N(0, I)``,
  ``0.5 * mu ** 2`` per latent element (averaged over elements, the reduction the weights were
  tuned for), on the means; and L_CC's ``lambda_3 KL(q(z|x))`` term of the *direct* latents,
  which the code leaves out, so the direct latents carry ``lambda_1 + lambda_3``.

The thesis's own L_CC1 (L408-411) has the sign of its log-likelihood term reversed and drops
lambda_3; it is the paper's Eq 5 that is implemented (spec 003 section 8.5).

Optimiser: Adam(1e-4, 0.5, 0.999, eps 1e-8: PyTorch's) with PyTorch's ``weight_decay=1e-4``, an
L2 term ``wd * w`` added to every gradient before Adam (not Keras' decoupled weight decay);
batch 1.

Randomness: the latent noise (unit variance, fixed: the code's ``GaussianNoiseLayer``) is drawn
inside the step with stateless seeds made of the run seed and each example's global index,
which the input stream carries. A resumed run draws the same noise, and two replicas draw what
one device draws for the same examples; no noise tensor is shipped through tf.data. Under XLA
(``trainer.jit_compile=true``, the default on a GPU) ``stateless_normal`` turns the same Philox
bits into other floats than TensorFlow's kernel does, so an XLA run draws other, equally seeded
N(0, 1) noise than a ``tf.function`` run: each mode is exact and resumable on its own, and the
rest of the step agrees to float tolerance (``tests/test_family_contract.py``). Instance
norm is per image, so a network is called once on the concatenated batch where the code does
(``torch.cat`` of both domains) and where it saves calls.
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
from gan_repro.registry import FAMILIES, NETWORKS
from gan_repro.training.family import Family, run_batched, save_sample_rows, unpaired_domains

OBJECTIVES = ("code", "paper")
ADVERSARIAL = ("bce", "lsgan")
#: Columns of the training sample grid.
GRID_IMAGES = 5
#: Noise draws per example and step: 0, 1 the discriminator update's latents; 2, 3 the
#: generator update's; 4, 5 the cycle's re-encodings.
_DRAWS = 6


@dataclass
class UNITConfig:
    """UNIT hyper-parameters (defaults: the 2017 code, spec 003 sections 1.2 and 3)."""

    image_shape: tuple[int, int, int] = (256, 256, 3)
    batch_size: int = 1
    generator: str = "unit_vae_pair"  # -> (E_A, E_B, G_A, G_B)
    discriminator: str = "unit_discriminators"  # -> (D_A, D_B)
    generator_options: dict[str, Any] = field(default_factory=dict)
    discriminator_options: dict[str, Any] = field(default_factory=dict)
    lr: float = 1e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    weight_decay: float = 1e-4  # PyTorch Adam's L2 on the gradient
    gan_weight: float = 10.0  # lambda_0
    kl_direct_weight: float = 0.1  # lambda_1
    recon_weight: float = 100.0  # lambda_2
    kl_cycle_weight: float = 0.1  # lambda_3
    cycle_weight: float = 100.0  # lambda_4
    objective: str = "code"  # OBJECTIVES
    adversarial: str = "bce"  # ADVERSARIAL: the code's BCE; LSGAN as an option
    noise_std: float = 1.0  # the GaussianNoiseLayer's fixed unit variance

    def __post_init__(self):
        check_choice("objective", self.objective, OBJECTIVES)
        check_choice("adversarial", self.adversarial, ADVERSARIAL)
        self.image_shape = tuple(int(v) for v in self.image_shape)
        if self.batch_size < 1:
            raise BadOptionError(f"batch_size must be >= 1; got {self.batch_size}")
        if self.weight_decay < 0 or self.noise_std < 0:
            raise BadOptionError("weight_decay and noise_std must be >= 0")
        self.generator_options = dict(self.generator_options)
        self.discriminator_options = dict(self.discriminator_options)

    def as_dict(self) -> dict:
        return asdict(self)


def build_unit_models(config: UNITConfig) -> dict[str, keras.Model]:
    """E_A, E_B, G_A, G_B and D_A, D_B from the registered builders named in ``config``."""
    offered = {"image_shape": config.image_shape}
    e_a, e_b, g_a, g_b = NETWORKS.build_offered(config.generator, offered, config.generator_options)
    d_a, d_b = NETWORKS.build_offered(config.discriminator, offered, config.discriminator_options)
    return {"enc_a": e_a, "enc_b": e_b, "gen_a": g_a, "gen_b": g_b, "d_a": d_a, "d_b": d_b}


def unique_variables(models) -> list:
    """The trainable variables of ``models``, each shared one once, in first-seen order."""
    seen: dict[int, Any] = {}
    for m in models:
        for v in m.trainable_variables:
            seen.setdefault(id(v), v)
    return list(seen.values())


def latent_kl(z: tf.Tensor, analytic: bool = False) -> tf.Tensor:
    """The KL term of one latent batch: the code's ``mean(z ** 2)`` (``analytic=False``) or
    the per-element KL(N(mu, I) || N(0, I)) = ``0.5 * mu ** 2``, averaged (``analytic=True``)."""
    sq = tf.reduce_mean(tf.square(tf.cast(z, tf.float32)))
    return 0.5 * sq if analytic else sq


def mean_l1(x, y) -> tf.Tensor:
    """``nn.L1Loss``: the mean absolute difference over every element."""
    return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


@FAMILIES.register("unit", source="UNIT (Liu et al. 2017): shared-latent VAE-GANs, the 2017 code")
class UNIT(Family):
    """Unpaired translation A <-> B through a shared latent space (``domain_a``/``domain_b``:
    uint8 [N,H,W,C])."""

    Config = UNITConfig
    inputs = ("a", "b")

    def __init__(self, config: UNITConfig, domain_a, domain_b, seed: int = 2020):
        self.config = config
        self.seed = seed
        self.domains, self.fixed = unpaired_domains(
            config, domain_a, domain_b, seed, GRID_IMAGES, "UNIT"
        )

    # -- models -----------------------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        self.models = build_unit_models(c)
        generators = [self.models[k] for k in ("enc_a", "enc_b", "gen_a", "gen_b")]
        self.g_variables = unique_variables(generators)
        self.d_variables = unique_variables([self.models["d_a"], self.models["d_b"]])

        def adam():
            # PyTorch's Adam epsilon (1e-8; Keras' default is 1e-7), as the code ran
            return keras.optimizers.Adam(c.lr, beta_1=c.beta_1, beta_2=c.beta_2, epsilon=1e-8)

        # one optimizer per side, as the code's gen_opt / dis_opt; the trainer checkpoints
        # them under the first model name that uses them
        self.optimizers = {"gen": adam(), "dis": adam()}
        self.optimizers["gen"].build(self.g_variables)
        self.optimizers["dis"].build(self.d_variables)
        self.latent_shape = tuple(self.models["enc_a"].output_shape[1:])
        self._compiled: dict = {}

    def dataset(self, start_step: int) -> tf.data.Dataset:
        b = self.config.batch_size
        reals = [
            image_stream(images, batch_size=b, seed=self.seed + 101 * (i + 1), start=start_step * b)
            for i, images in enumerate(self.domains)
        ]
        # the global example index of each batch row: the key of its latent noise
        index = tf.data.Dataset.range(start_step * b, 2**62).batch(b, drop_remainder=True)

        def merge(a, b_, i):
            return {"a": a, "b": b_, "index": i}

        return tf.data.Dataset.zip((*reals, index)).map(merge).prefetch(tf.data.AUTOTUNE)

    def noise(self, index: tf.Tensor, draw: int) -> tf.Tensor:
        """N(0, noise_std^2) of the latent's shape for each example of the batch: a pure function
        of (run seed, draw, example index)."""
        rows = [
            tf.random.stateless_normal(
                self.latent_shape,
                seed=tf.stack([tf.constant(self.seed * _DRAWS + draw, tf.int64), index[i]]),
            )
            for i in range(index.shape[0])
        ]
        return self.config.noise_std * tf.stack(rows)

    # -- the replica step ---------------------------------------------------------------------
    def train_step(self, batch, num_replicas: int) -> dict[str, tf.Tensor]:
        a, b, index = batch["a"], batch["b"], batch["index"]
        logs = self._discriminator_update(a, b, index, num_replicas)
        logs.update(self._generator_update(a, b, index, num_replicas))
        return logs

    def _encode(self, x_a, x_b, index, draws):
        """``(z_a, z_b, mu_a, mu_b)``: each domain's encoder, then the noise of ``draws``."""
        m = self.models
        mu_a = m["enc_a"](x_a, training=True)
        mu_b = m["enc_b"](x_b, training=True)
        z_a = mu_a + tf.cast(self.noise(index, draws[0]), mu_a.dtype)
        z_b = mu_b + tf.cast(self.noise(index, draws[1]), mu_b.dtype)
        return z_a, z_b, mu_a, mu_b

    def _decode_both(self, gen: str, z_a, z_b):
        """One generator on both latents (instance norm is per image: exact)."""
        n = tf.shape(z_a)[0]
        out = self.models[gen](tf.concat([z_a, z_b], 0), training=True)
        return out[:n], out[n:]

    def _adversarial(self, logits, target: float) -> tf.Tensor:
        if self.config.adversarial == "lsgan":
            return lsgan_loss(logits, target)
        return bce_with_logits(target, logits)

    def _apply(self, side: str, tape, loss, variables, num_replicas: int) -> None:
        """Adam on ``variables`` down ``loss``'s gradient plus PyTorch's L2 weight decay
        (divided by the replicas: the optimizer sums the replicas' gradients)."""
        grads = tape.gradient(loss, variables)
        wd = self.config.weight_decay
        if wd:
            decay = wd / num_replicas
            grads = [g + decay * tf.cast(v, g.dtype) for g, v in zip(grads, variables, strict=True)]
        self.optimizers[side].apply_gradients(zip(grads, variables, strict=True))

    def _discriminator_update(self, a, b, index, num_replicas):
        c, m = self.config, self.models
        z_a, z_b, _, _ = self._encode(a, b, index, (0, 1))
        x_ab = m["gen_b"](z_a, training=True)
        x_ba = m["gen_a"](z_b, training=True)
        with tf.GradientTape() as tape:
            real_a = self._adversarial(m["d_a"](a, training=True), 1.0)
            fake_a = self._adversarial(m["d_a"](x_ba, training=True), 0.0)
            real_b = self._adversarial(m["d_b"](b, training=True), 1.0)
            fake_b = self._adversarial(m["d_b"](x_ab, training=True), 0.0)
            loss = c.gan_weight * (real_a + fake_a + real_b + fake_b)
            scaled = loss / num_replicas
        self._apply("dis", tape, scaled, self.d_variables, num_replicas)
        return {
            "d_loss": loss,
            "dA_real": real_a,
            "dA_fake": fake_a,
            "dB_real": real_b,
            "dB_fake": fake_b,
        }

    def generator_terms(self, a, b, index) -> dict[str, tf.Tensor]:
        """Every unweighted term of the encoder/generator objective (module docstring), from
        the networks in training mode with the noise of ``index``."""
        m = self.models
        analytic = self.config.objective == "paper"
        z_a, z_b, mu_a, mu_b = self._encode(a, b, index, (2, 3))
        x_aa, x_ba = self._decode_both("gen_a", z_a, z_b)
        x_ab, x_bb = self._decode_both("gen_b", z_a, z_b)
        # the cycle: re-encode each translation in its new domain, decode back
        z_ba, z_ab, mu_ba, mu_ab = self._encode(x_ba, x_ab, index, (4, 5))
        x_bab = m["gen_b"](z_ba, training=True)
        x_aba = m["gen_a"](z_ab, training=True)
        kl_input = (mu_a, mu_b, mu_ab, mu_ba) if analytic else (z_a, z_b, z_ab, z_ba)
        kl_a, kl_b, kl_ab, kl_ba = (latent_kl(z, analytic) for z in kl_input)
        return {
            "gan_A": self._adversarial(m["d_a"](x_ba, training=True), 1.0),
            "gan_B": self._adversarial(m["d_b"](x_ab, training=True), 1.0),
            "kl_A": kl_a,
            "kl_B": kl_b,
            "recon_A": mean_l1(x_aa, a),
            "recon_B": mean_l1(x_bb, b),
            "kl_cycle_AB": kl_ab,
            "kl_cycle_BA": kl_ba,
            "cycle_A": mean_l1(x_aba, a),
            "cycle_B": mean_l1(x_bab, b),
        }

    def generator_total(self, t: dict[str, tf.Tensor]) -> tf.Tensor:
        """The weighted sum of :meth:`generator_terms` (module docstring, ``objective``)."""
        c = self.config
        kl_direct = c.kl_direct_weight
        if c.objective == "paper":  # Eq 5's lambda_3 KL(q(z|x)) of the direct latents
            kl_direct += c.kl_cycle_weight
        return (
            c.gan_weight * (t["gan_A"] + t["gan_B"])
            + kl_direct * (t["kl_A"] + t["kl_B"])
            + c.recon_weight * (t["recon_A"] + t["recon_B"])
            + c.kl_cycle_weight * (t["kl_cycle_AB"] + t["kl_cycle_BA"])
            + c.cycle_weight * (t["cycle_A"] + t["cycle_B"])
        )

    def _generator_update(self, a, b, index, num_replicas):
        with tf.GradientTape() as tape:
            terms = self.generator_terms(a, b, index)
            total = self.generator_total(terms)
            scaled = total / num_replicas
        self._apply("gen", tape, scaled, self.g_variables, num_replicas)
        return {"g_loss": total, **terms}

    # -- inference ----------------------------------------------------------------------------
    def _latent_noise(self, n: int, noise_seed: int | None, shared: bool) -> np.ndarray | None:
        if noise_seed is None:
            return None
        draws = 1 if shared else n
        eps = tf.random.stateless_normal((draws, *self.latent_shape), seed=[int(noise_seed), 7])
        eps = self.config.noise_std * np.asarray(eps, np.float32)
        return np.broadcast_to(eps, (n, *self.latent_shape)) if shared else eps

    def _run(self, encoder: str, generator: str):
        key = (encoder, generator)
        if key not in self._compiled:
            e, g = self.models[encoder], self.models[generator]
            self._compiled[key] = tf.function(
                lambda x, eps: g(e(x, training=False) + eps, training=False)
            )
        return self._compiled[key]

    def translate(
        self,
        images,
        direction: str = "AtoB",
        batch_size: int = 8,
        noise_seed: int | None = None,
        shared_noise: bool = True,
    ) -> np.ndarray:
        """``G_B(E_A(x) + eps)`` ("AtoB") or ``G_A(E_B(y) + eps)`` ("BtoA") of float [-1, 1] or
        uint8 images, in inference mode. ``noise_seed=None``: eps = 0, the latent mean (the
        code's test-time translation: its noise layer is off in eval mode). Else eps is a
        seeded draw: one draw for every image (``shared_noise``, the thesis's "the sampled
        latent space is the same" within a figure, L464) or one per image."""
        check_choice("direction", direction, ("AtoB", "BtoA"))
        enc, gen = ("enc_a", "gen_b") if direction == "AtoB" else ("enc_b", "gen_a")
        return self._sampled(enc, gen, images, batch_size, noise_seed, shared_noise)

    def reconstruct(
        self,
        images,
        domain: str = "A",
        batch_size: int = 8,
        noise_seed: int | None = None,
        shared_noise: bool = True,
    ) -> np.ndarray:
        """The VAE reconstruction ``G_X(E_X(x) + eps)`` of domain ``domain`` ("A" or "B")."""
        check_choice("domain", domain, ("A", "B"))
        enc, gen = ("enc_a", "gen_a") if domain == "A" else ("enc_b", "gen_b")
        return self._sampled(enc, gen, images, batch_size, noise_seed, shared_noise)

    def _sampled(self, enc, gen, images, batch_size, noise_seed, shared) -> np.ndarray:
        run = self._run(enc, gen)
        eps = self._latent_noise(len(images), noise_seed, shared)

        def call(x, rows):
            noise = np.zeros((len(x), *self.latent_shape), np.float32) if eps is None else eps[rows]
            return run(tf.constant(x), tf.constant(noise))

        return run_batched(call, images, batch_size)

    def samples(self, step: int) -> dict[str, np.ndarray]:
        a, b = self.fixed
        seed = self.seed + 1  # one fixed draw for the grids of every step
        return {
            "real_a": a,
            "recon_a": self.reconstruct(a, "A", noise_seed=seed),
            "a_to_b": self.translate(a, "AtoB", noise_seed=seed),
            "real_b": b,
            "recon_b": self.reconstruct(b, "B", noise_seed=seed),
            "b_to_a": self.translate(b, "BtoA", noise_seed=seed),
        }

    def save_samples(self, path, step: int) -> np.ndarray:
        """Rows: A, its VAE reconstruction, A -> B, then B, B's reconstruction, B -> A (the
        thesis's three-row layout of Figs 6.6-6.11, both directions), one fixed noise draw."""
        return save_sample_rows(self.samples(step), path)
