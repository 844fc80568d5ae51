"""``gan-repro bench --translation-models ...``: the CycleGAN-vs-UNIT training steps, timed.

One step of each run of ``experiments/cyclegan_unit/photo-anime.yaml`` (Wang 2018, spec 003) at
batch 1: ``cyclegan`` (Zhu et al.'s ResNet-9 generators and 70x70 PatchGANs: D_A, D_B, then both
generators with the identity and cycle terms) and ``unit`` (the 2017 UNIT code: both
discriminators, then both encoder/generator pairs with the cycle re-encoding). The families are
built from the declaration's model sections on random images of the run's size (the step's cost
does not depend on the pixels), so no dataset is needed. Modes: ``eager`` op by op,
``function`` (what the trainer runs), ``xla`` (``jit_compile``), with the speed-up over eager.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gan_repro.errors import BadOptionError, check_choice
from gan_repro.training.trainer import time_steps

DECLARATION = "cyclegan_unit/photo-anime"
#: The timed runs of the declaration.
TRANSLATION_MODELS = ("cyclegan", "unit")
MODES = ("eager", "function", "xla")


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
    modes=MODES,
) -> list[dict]:
    """Seconds per training step of each model in each mode (table rows)."""
    check_choice("device", device, ("cpu", "gpu"))
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise BadOptionError("--device gpu: TensorFlow sees no GPU on this machine")
    rows = []
    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        for name in models:
            family = translation_family(name, size)
            batch = next(iter(family.dataset(0)))

            def step(b, family=family):
                return family.train_step(b, 1)

            fns = {
                "eager": step,
                "function": tf.function(step),
                "xla": tf.function(step, jit_compile=True),
            }
            for mode in modes:
                check_choice("mode", mode, MODES)
                row = {"model": name, "mode": mode}
                try:
                    seconds = time_steps(fns[mode], batch, steps)
                    row.update({"s/step": seconds, "steps/s": 1.0 / seconds})
                except Exception as e:  # XLA may not support an op on this device: say so
                    row["error"] = f"{type(e).__name__}: {str(e)[:120]}"
                rows.append(row)
    for name in models:
        eager = next(
            (
                r["s/step"]
                for r in rows
                if r["model"] == name and r["mode"] == "eager" and "s/step" in r
            ),
            None,
        )
        for r in rows:
            if r["model"] == name and eager and "s/step" in r:
                r["speed-up vs eager"] = eager / r["s/step"]
    return rows
