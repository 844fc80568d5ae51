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


class GradientRouter:
    """Apply each model's gradient of *its own* loss with the optimizer that owns each variable.

    Every model minimises its own loss (e.g. G1 minimises L_G1, G2 minimises L_G2; a regulariser
    that appears in both losses is differentiated once per owner, as in the authors' three-tape
    step, Listing 6.14). A variable shared by several models (CoGAN's tied layers) receives the
    sum of their gradients in one update, i.e. the joint objective of CoGAN Eq 3.1, instead of
    being stepped twice by one shared Adam as in the authors' loop. Each variable belongs to the
    first model that holds it, and so to exactly one optimizer: with nothing shared this is the
    same as one independent Adam per model.
    """

    def __init__(self, models: dict[str, keras.Model], optimizers: dict[str, Any]):
        self.models = models
        self.optimizers = optimizers
        seen: set[int] = set()
        self.owned: dict[str, list] = {}
        for name, model in models.items():
            own = [v for v in model.trainable_variables if id(v) not in seen]
            seen.update(id(v) for v in own)
            self.owned[name] = own

    def build(self) -> None:
        for name, opt in self.optimizers.items():
            opt.build(self.owned[name])

    def apply(self, tape: tf.GradientTape, losses: dict[str, tf.Tensor]) -> None:
        """``losses[name]`` is the (replica-scaled) loss that model ``name`` minimises."""
        grads: dict[int, tf.Tensor] = {}
        for name, loss in losses.items():
            variables = self.models[name].trainable_variables
            for v, g in zip(variables, tape.gradient(loss, variables), strict=True):
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
        cls, config, inputs: Mapping[str, Any], seed: int, resources: Mapping[str, Any] = {}
    ) -> Family:
        """The family on the runner's named ``inputs`` (arrays) and ``resources``."""
        missing = [k for k in cls.inputs if k not in inputs]
        if missing:
            from gan_repro.errors import BadOptionError

            raise BadOptionError(
                f"{cls.__name__} trains on {list(cls.inputs)}; the declaration's data gives "
                f"{sorted(inputs)}, missing {missing}"
            )
        extras = {k: resources[k] for k in cls.resources if k in resources}
        return cls(config, *(inputs[k] for k in cls.inputs), seed=seed, **extras)

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
