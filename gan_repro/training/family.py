"""What a model family gives the trainer, and the gradient routing every family shares.

A family (plain GAN, coupled/soft-coupled pair, CycleGAN, UNIT, ...) differs from the others only
by its models, its input stream and its replica step; the loop, checkpoints, logging and sample
grids are the one :class:`gan_repro.training.trainer.Trainer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf


def descend(optimizer, tape: tf.GradientTape, loss: tf.Tensor, variables: list) -> None:
    """One optimizer step on ``variables`` down the gradient of ``loss`` (recorded by ``tape``);
    the one-model update of the face-aging families (Keras ``train_on_batch``)."""
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables, strict=True))


def run_batched(call, images, batch_size: int) -> np.ndarray:
    """``call(x, rows)`` on ``batch_size`` images at a time (``rows`` their indices) and the
    outputs concatenated: the inference loop of the families' ``translate``. uint8 images are
    scaled to the float [-1, 1] the networks take."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = (images.astype(np.float32) - 127.5) / 127.5
    out = [
        np.asarray(call(images[i : i + batch_size], np.arange(i, min(i + batch_size, len(images)))))
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(out) if out else images[:0]


def unpaired_domains(config, domain_a, domain_b, seed: int, n_fixed: int, what: str):
    """``(domains, fixed)`` of a translation family (CycleGAN, UNIT): the two uint8 image arrays,
    each checked against ``config.image_shape`` (the message names the option to fix), and
    ``n_fixed`` images of each drawn once with ``seed`` for the sample grids."""
    from gan_repro.errors import BadOptionError

    for name, dom in (("A", domain_a), ("B", domain_b)):
        if tuple(dom.shape[1:]) != tuple(config.image_shape):
            raise BadOptionError(
                f"domain {name} has images of shape {tuple(dom.shape[1:])}, the {what} expects "
                f"model.image_shape {tuple(config.image_shape)}: make the data section's image "
                "size (e.g. data.size, data.channels) and model.image_shape agree"
            )
    domains = (np.asarray(domain_a), np.asarray(domain_b))
    rng = np.random.default_rng(seed)
    fixed = tuple(
        dom[rng.choice(len(dom), size=min(n_fixed, len(dom)), replace=False)] for dom in domains
    )
    return domains, fixed


def save_sample_rows(samples: dict[str, np.ndarray], path) -> np.ndarray:
    """Every entry of ``samples`` (float [-1, 1] or uint8 images) as one row of a grid, cut to
    the shortest row, written to ``path``; returns the grid."""
    from gan_repro.viz.grids import save_image, tile, to_uint8

    n = min(len(v) for v in samples.values())
    rows = [to_uint8(v[:n]) if v.dtype != np.uint8 else v[:n] for v in samples.values()]
    grid = tile(np.concatenate(rows), rows=len(rows), cols=n)
    save_image(grid, path)
    return grid


class GradientRouter:
    """Apply each model's gradient of *its own* loss, with the optimizer(s) named per model.

    Every model minimises its own loss (e.g. G1 minimises L_G1, G2 minimises L_G2; a regulariser
    that appears in both losses is differentiated once per owner, as in the authors' three-tape
    step, Listing 6.14). The two ``shared_update`` modes differ only for a variable held by
    several models (CoGAN's tied layers) and for optimizers shared by several models:

    * ``"sequential"`` (the authors' loop, spec 10.1-10.2, Listings 6.12-6.15): all gradients of
      one :meth:`apply` call are taken at the same point, then each model's *whole* gradient,
      shared variables included, is applied in turn in the order of ``losses`` with that model's
      optimizer. A shared variable is so stepped once per owner, and when the owners share one
      optimizer (the authors' one Adam for G1, G2 and the encoder, one for D1 and D2) each step
      moves the same Adam slots and the optimizer's one iteration counter, as in their code.
      Calling :meth:`apply` once per model with a fresh tape in between (D1, then D2 computed at
      the updated weights) is the authors' critic step.
    * ``"sum"``: a shared variable receives the sum of its owners' gradients in one update, the
      joint objective of CoGAN Eq 3.1. Each variable belongs to the first model that holds it,
      and so to that model's optimizer only.

    With nothing shared and one optimizer per model both modes are the same independent Adams.
    Both are plain graph code, so they run under ``tf.function`` and a ``tf.distribute``
    strategy (the optimizers all-reduce gradients; update order follows program order).
    """

    MODES = ("sequential", "sum")

    def __init__(
        self,
        models: dict[str, keras.Model],
        optimizers: dict[str, Any],
        shared_update: str = "sum",
    ):
        from gan_repro.errors import check_choice

        check_choice("shared_update", shared_update, self.MODES)
        self.models = models
        self.optimizers = optimizers
        self.shared_update = shared_update
        seen: set[int] = set()
        self.owned: dict[str, list] = {}
        for name, model in models.items():
            if shared_update == "sequential":
                own = list(model.trainable_variables)
            else:
                own = [v for v in model.trainable_variables if id(v) not in seen]
            seen.update(id(v) for v in own)
            self.owned[name] = own

    def build(self) -> None:
        """Build each distinct optimizer once, on the variables of all the models it serves."""
        served: dict[int, tuple[Any, dict[int, Any]]] = {}
        for name, opt in self.optimizers.items():
            _, variables = served.setdefault(id(opt), (opt, {}))
            for v in self.owned[name]:
                variables.setdefault(id(v), v)
        for opt, variables in served.values():
            opt.build(list(variables.values()))

    def apply(self, tape: tf.GradientTape, losses: dict[str, tf.Tensor]) -> None:
        """``losses[name]`` is the (replica-scaled) loss that model ``name`` minimises."""
        per_model = {}
        for name, loss in losses.items():
            variables = self.models[name].trainable_variables
            per_model[name] = list(zip(tape.gradient(loss, variables), variables, strict=True))
            if all(g is None for g, _ in per_model[name]):
                raise ValueError(
                    f"the loss of {name!r} has no gradient on any of its variables: was it "
                    "computed outside the GradientTape?"
                )
        if self.shared_update == "sequential":
            for name, pairs in per_model.items():
                pairs = [(g, v) for g, v in pairs if g is not None]
                if pairs:
                    self.optimizers[name].apply_gradients(pairs)
            return
        grads: dict[int, tf.Tensor] = {}
        for pairs in per_model.values():
            for g, v in pairs:
                if g is not None:
                    grads[id(v)] = g if id(v) not in grads else grads[id(v)] + g
        for name, opt in self.optimizers.items():
            pairs = [(grads[id(v)], v) for v in self.owned[name] if id(v) in grads]
            if pairs:
                opt.apply_gradients(pairs)


class Family:
    """Base class of the model families driven by the trainer.

    Subclasses set ``models`` and ``optimizers`` in :meth:`build` (called inside the
    distribution strategy's scope) and implement the three methods below. For the runner they
    also declare ``Config`` (the dataclass of a declaration's ``model:`` section, typed and
    validated), ``inputs`` (the names of the arrays their constructor takes first, in order,
    as the declaration's datasets provide them) and ``resources`` (the keyword-only extras a
    hook may provide, e.g. a frozen classifier); a family is registered in
    :data:`gan_repro.registry.FAMILIES` and takes its networks by name from
    :data:`gan_repro.registry.NETWORKS`.
    """

    Config: ClassVar[type]
    inputs: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[tuple[str, ...]] = ()
    models: dict[str, keras.Model]
    optimizers: dict[str, Any]

    @classmethod
    def from_inputs(
        cls,
        config,
        inputs: Mapping[str, Any],
        seed: int,
        resources: Mapping[str, Any] | None = None,
    ) -> Family:
        """The family on the runner's named ``inputs`` (arrays) and ``resources``."""
        resources = resources or {}
        missing = [k for k in cls.inputs if k not in inputs]
        if missing:
            from gan_repro.errors import BadOptionError

            raise BadOptionError(
                f"{cls.__name__} trains on {list(cls.inputs)}; the declaration's data gives "
                f"{sorted(inputs)}, missing {missing}"
            )
        extras = {k: resources[k] for k in cls.resources if k in resources}
        return cls(config, *(inputs[k] for k in cls.inputs), seed=seed, **extras)

    @classmethod
    def for_inference(cls, config, seed: int = 2020) -> Family:
        """The family's models from ``config`` alone, without training data (run folders,
        notebooks, metrics): :meth:`build` depends on the config and the seed only."""
        family = cls.__new__(cls)
        family.config = config
        family.seed = seed
        family.build()
        return family

    def build(self) -> None:
        raise NotImplementedError

    def dataset(self, start_step: int) -> tf.data.Dataset:
        """The per-step input stream from ``start_step`` on: each element holds *everything
        random* that step needs, with the global batch as leading axis, so that resuming and
        splitting over replicas both give the same numbers."""
        raise NotImplementedError

    def train_step(self, batch, num_replicas: int) -> dict[str, tf.Tensor]:
        """One training step on one replica; returns the replica's (local-batch mean) losses.
        Losses used for gradients must be divided by ``num_replicas``."""
        raise NotImplementedError

    def state_variables(self) -> dict[str, list]:
        """Variables outside the models and optimizers that a resumed run needs (e.g. the
        CycleGAN image pools); checkpointed with them. None by default."""
        return {}

    def samples(self, step: int) -> dict[str, np.ndarray]:
        """Images at the family's fixed sample noise, in inference mode, for the grid."""
        raise NotImplementedError

    def save_samples(self, path, step: int) -> np.ndarray:
        """Write the thesis-layout sample grid for ``step`` to ``path``; return it as an array."""
        raise NotImplementedError
