"""Every builder with its source, for ``gan-repro models`` and the parameter-count tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras

from gan_repro.models.classifiers import cc_encoder_32, digit_classifier_b1
from gan_repro.models.cogan32 import cogan_discriminators_32, cogan_generators_32
from gan_repro.models.face_aging import (
    face_aging_cdcgan_discriminator,
    face_aging_cdcgan_generator,
    face_aging_cgan_discriminator,
    face_aging_cgan_discriminator_body,
    face_aging_cgan_generator,
    face_aging_cgan_generator_body,
    face_aging_cyclegan_discriminator,
    face_aging_cyclegan_generator,
    face_aging_dcgan_discriminator,
    face_aging_dcgan_generator,
)


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
    ModelEntry(
        "face_aging_dcgan_generator",
        "Face-aging thesis Fig A.1 (DCGAN G, 100x100x1)",
        face_aging_dcgan_generator,
    ),
    ModelEntry(
        "face_aging_dcgan_discriminator",
        "Face-aging thesis Fig A.2 (DCGAN D)",
        face_aging_dcgan_discriminator,
    ),
    ModelEntry(
        "face_aging_cyclegan_generator",
        "Face-aging thesis Figs A.3/A.4 (concatenating 'residual' blocks)",
        face_aging_cyclegan_generator,
    ),
    ModelEntry(
        "face_aging_cyclegan_discriminator",
        "Face-aging thesis Fig A.5 (16x16 patch output)",
        face_aging_cyclegan_discriminator,
    ),
    ModelEntry(
        "face_aging_cgan_generator_body",
        "Face-aging thesis Fig A.6 (inner CGAN G, latent 100)",
        face_aging_cgan_generator_body,
    ),
    ModelEntry(
        "face_aging_cgan_generator",
        "Face-aging thesis L932-936: Fig A.6 + label Embedding x noise",
        face_aging_cgan_generator,
    ),
    ModelEntry(
        "face_aging_cgan_generator_latent120",
        "Face-aging thesis L938, L1146: CGAN G at latent 120",
        face_aging_cgan_generator,
        {"latent_dim": 120},
    ),
    ModelEntry(
        "face_aging_cgan_discriminator_body",
        "Face-aging thesis Fig A.7 (inner CGAN D)",
        face_aging_cgan_discriminator_body,
    ),
    ModelEntry(
        "face_aging_cgan_discriminator",
        "Face-aging thesis L944-950: Fig A.7 + label Embedding x image",
        face_aging_cgan_discriminator,
    ),
    ModelEntry(
        "face_aging_cdcgan_generator",
        "Face-aging thesis Fig A.8 (conditional DCGAN G)",
        face_aging_cdcgan_generator,
    ),
    ModelEntry(
        "face_aging_cdcgan_discriminator",
        "Face-aging thesis Fig A.9 (conditional DCGAN D)",
        face_aging_cdcgan_discriminator,
    ),
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
