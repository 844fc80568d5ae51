"""Every builder with its source, for ``gan-repro models`` and the parameter-count tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras

from gan_repro.models.classifiers import cc_encoder_32, digit_classifier_b1
from gan_repro.models.cogan32 import cogan_discriminators_32, cogan_generators_32


@dataclass(frozen=True)
class ModelEntry:
    """A builder as ``gan-repro models`` lists it."""

    name: str
    source: str
    build: Callable[[], keras.Model | tuple[keras.Model, ...]]
    kwargs: dict = field(default_factory=dict)

    def models(self) -> tuple[keras.Model, ...]:
        built = self.build(**self.kwargs)
        return built if isinstance(built, tuple) else (built,)


REGISTRY: tuple[ModelEntry, ...] = (
    ModelEntry(
        "cogan_generators_32",
        "SCoGAN thesis Table 3.1 (+ Listings 6.3/6.7), CoGAN: 4 shared blocks",
        cogan_generators_32,
        {"shared_layers": 4},
    ),
    ModelEntry(
        "scogan_generators_32",
        "SCoGAN thesis Table 3.1 without shared layers (L871, L996), multi-output Listing 6.7",
        cogan_generators_32,
        {"shared_layers": 0},
    ),
    ModelEntry(
        "cogan_discriminators_32",
        "SCoGAN thesis Table 3.2, CoGAN: last 3 blocks shared",
        cogan_discriminators_32,
        {"shared_layers": 3},
    ),
    ModelEntry(
        "scogan_discriminators_32",
        "SCoGAN thesis Table 3.2 without shared layers",
        cogan_discriminators_32,
        {"shared_layers": 0},
    ),
    ModelEntry(
        "digit_classifier_b1",
        "SCoGAN thesis Table B.1 (code layout, spec 10.8)",
        digit_classifier_b1,
    ),
    ModelEntry("cc_encoder_32", "SCoGAN authors' Nets.encoder (spec 10.4)", cc_encoder_32),
)


def unique_params(models, trainable_only: bool = False) -> int:
    """Parameters of a group of models, counting shared variables once."""
    seen = {}
    for model in models:
        for v in model.trainable_variables if trainable_only else model.variables:
            if "seed_generator" not in v.path:
                seen[id(v)] = int(v.numpy().size)
    return sum(seen.values())


def describe(entry: ModelEntry) -> dict:
    """Output shapes and total/trainable parameter counts of one registry entry."""
    models = entry.models()
    return {
        "name": entry.name,
        "source": entry.source,
        "outputs": [
            [tuple(t.shape) for t in (m.outputs if isinstance(m.outputs, list) else [m.outputs])]
            for m in models
        ],
        "per_model_params": [m.count_params() for m in models],
        "total_params": unique_params(models),
        "trainable_params": unique_params(models, trainable_only=True),
    }
