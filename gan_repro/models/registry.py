"""``gan-repro models``: every registered network builder with its source, shapes and counts."""

from __future__ import annotations

import keras  # noqa: F401

import gan_repro.models  # noqa: F401  (registers every builder)
from gan_repro.registry import NETWORKS, Entry


def entries() -> list[Entry]:
    """Every registered network builder, in registration order."""
    return list(NETWORKS)


def unique_params(models, trainable_only: bool = False) -> int:
    """Parameters of a group of models, counting shared variables once."""
    seen = {}
    for model in models:
        for v in model.trainable_variables if trainable_only else model.variables:
            if "seed_generator" not in v.path:
                seen[id(v)] = int(v.numpy().size)
    return sum(seen.values())


def describe(entry: Entry) -> dict:
    """Output shapes and total/trainable parameter counts of one registry entry."""
    built = entry.build()
    models = built if isinstance(built, tuple) else (built,)
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
