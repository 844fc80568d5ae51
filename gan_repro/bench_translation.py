"""``gan-repro bench --translation-models ...``: the CycleGAN-vs-UNIT training steps, timed.

One step of each run of ``experiments/cyclegan_unit/photo-anime.yaml`` (Wang 2018, spec 003) at
batch 1: ``cyclegan`` (Zhu et al.'s ResNet-9 generators and 70x70 PatchGANs: D_A, D_B, then both
generators with the identity and cycle terms) and ``unit`` (the 2017 UNIT code: both
discriminators, then both encoder/generator pairs with the cycle re-encoding). The families are
built from the declaration's model sections on random images of the run's size (the step's cost
does not depend on the pixels), so no dataset is needed. Modes: ``eager`` op by op,
``function`` (what the trainer runs), ``xla`` (``jit_compile``), with the speed-up over eager
and the step's FLOPs (:func:`gan_repro.bench_table.step_rows`).
"""

from __future__ import annotations

import numpy as np

from gan_repro.bench_table import STEP_MODES, device_scope, step_modes, step_rows, with_speedup
from gan_repro.errors import check_choice

DECLARATION = "cyclegan_unit/photo-anime"
#: The timed runs of the declaration.
TRANSLATION_MODELS = ("cyclegan", "unit")


def translation_family(run: str, size: int = 256):
    """The family of ``run`` of the CycleGAN-vs-UNIT declaration at ``size`` x ``size``, batch 1,
    on random uint8 images, built."""
    from gan_repro.config import load_declaration, resolve_run
    from gan_repro.registry import FAMILIES

    decl = load_declaration(DECLARATION)
    check_choice("translation model", run, decl.runs)
    cfg = resolve_run(decl, run, "paper")
    config = type(cfg.model)(**{**cfg.model_dict(), "image_shape": (size, size, 3)})
    rng = np.random.default_rng(0)
    images = {k: rng.integers(0, 256, (4, size, size, 3), dtype=np.uint8) for k in "ab"}
    family = FAMILIES.get(cfg.family)(config, images["a"], images["b"], seed=cfg.trainer.seed)
    family.build()
    return family


def run_translation_bench(
    device: str = "cpu",
    models=TRANSLATION_MODELS,
    size: int = 256,
    steps: int = 3,
    modes=STEP_MODES,
    flops: bool = True,
    after=None,
) -> list[dict]:
    """Seconds per training step of each model in each mode (table rows), with the speed-up
    over the model's eager step where that was timed and the step's FLOPs (``flops``).
    ``after(leading, fns, batch, modes)`` runs after each model's timings (e.g. a profile)."""
    for mode in modes:
        check_choice("mode", mode, STEP_MODES)
    rows = []
    with device_scope(device):
        for name in models:
            family = translation_family(name, size)
            batch = next(iter(family.dataset(0)))
            rows += step_rows(
                {"model": name}, step_modes(family), modes, batch, steps, flops, after
            )
    return with_speedup(rows)
