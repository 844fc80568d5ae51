"""``gan-repro bench``: the soft-coupled training step, eager vs ``tf.function`` vs XLA.

Measured as ratios within one run, on synthetic 32x32x3 data at the paper's batch size (128):
the step is data-independent in cost, so random images time it exactly. The SCoGAN-SLFR step
(5 WGAN-GP critic iterations on both discriminators, then both generators with the semantic
loss and the feature regulariser) is the default; ``--variant`` picks any Table 5.2 column.
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np
import tensorflow as tf

from gan_repro.errors import BadOptionError, check_choice
from gan_repro.training.coupled import CoupledConfig, CoupledGAN
from gan_repro.training.trainer import time_steps


def _family(variant_kwargs: dict, batch_size: int, seed: int = 0) -> CoupledGAN:
    from gan_repro.losses import vgg19_features
    from gan_repro.models.classifiers import digit_classifier_b1

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(4 * batch_size * 5, 32, 32, 3), dtype=np.uint8)
    config = CoupledConfig(batch_size=batch_size, **variant_kwargs)
    classifier = digit_classifier_b1() if config.sl_weight > 0 else None
    vgg = vgg19_features(weights=None) if config.uses_perceptual else None
    family = CoupledGAN(config, x, x[::-1].copy(), seed=seed, classifier=classifier, vgg=vgg)
    family.build()
    return family


def run_bench(
    device: str = "cpu",
    batch_size: int = 128,
    steps: int = 3,
    variant: str = "SLFR",
    modes=("eager", "function", "xla"),
) -> list[dict]:
    """Seconds per training step in each mode; returns table rows."""
    from gan_repro.cli import import_experiment

    VARIANTS = import_experiment("scogan-mnist2svhn").VARIANTS  # noqa: N806
    check_choice("variant", variant, VARIANTS)
    check_choice("device", device, ("cpu", "gpu"))
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise BadOptionError("--device gpu: TensorFlow sees no GPU on this machine")
    placement = tf.device("/GPU:0" if device == "gpu" else "/CPU:0")
    rows = []
    with placement:
        family = _family(VARIANTS[variant], batch_size)
        batch = next(iter(family.dataset(0)))

        def step(b):
            return family.train_step(b, 1)

        fns = {
            "eager": step,
            "function": tf.function(step),
            "xla": tf.function(step, jit_compile=True),
        }
        for mode in modes:
            try:
                seconds = time_steps(fns[mode], batch, steps)
                rows.append({"mode": mode, "s/step": seconds, "steps/s": 1.0 / seconds})
            except Exception as e:  # XLA may not support an op on this device: say so
                rows.append({"mode": mode, "error": f"{type(e).__name__}: {str(e)[:120]}"})
    eager = next((r["s/step"] for r in rows if r["mode"] == "eager" and "s/step" in r), None)
    for r in rows:
        if eager and "s/step" in r:
            r["speed-up vs eager"] = eager / r["s/step"]
    return rows


def format_table(rows: list[dict], title: str) -> str:
    lines = [title, "", "| mode | s/step | steps/s | speed-up vs eager |", "|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['mode']} | n/a | n/a | {r['error']} |")
        else:
            lines.append(
                f"| {r['mode']} | {r['s/step']:.3f} | {r['steps/s']:.2f} | "
                f"{r.get('speed-up vs eager', float('nan')):.2f}x |"
            )
    return "\n".join(lines)


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="gan-repro bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="cpu | gpu")
    p.add_argument("--batch", type=int, default=128, help="batch size (paper: 128)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per mode")
    p.add_argument("--variant", default="SLFR")
    p.add_argument("--modes", default="eager,function,xla")
    args = p.parse_args(argv)
    rows = run_bench(args.device, args.batch, args.steps, args.variant, args.modes.split(","))
    gpus = tf.config.list_physical_devices("GPU")
    where = (
        "GPU " + tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
        if args.device == "gpu" and gpus
        else f"CPU ({_cpu_count()} cores)"
    )
    table = format_table(
        rows,
        f"SCoGAN-{args.variant} training step (5 critic iterations + generator step), "
        f"batch {args.batch}, {where}, TF {tf.__version__}",
    )
    print(table)
    return table


def _cpu_count() -> int:
    with contextlib.suppress(Exception):
        import os

        return len(os.sched_getaffinity(0))
    return 0
