"""``gan-repro bench``: the soft-coupled training step, eager vs ``tf.function`` vs XLA.

Measured as ratios within one run, at the paper's batch size (128). The family is built from its
declaration (the run of ``experiments/scogan/mnist2svhn.yaml``) on the smoke scale's data: the
step's cost does not depend on the pixels. The SCoGAN-SLFR step
(5 WGAN-GP critic iterations on both discriminators, then both generators with the semantic
loss and the feature regulariser) is the default; ``--variant`` picks any Table 5.2 column.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import time

import numpy as np
import tensorflow as tf

from gan_repro.bench_table import device_scope, format_table, step_modes, timed, with_speedup
from gan_repro.errors import BadOptionError, check_choice

#: The declaration whose runs ``--variant`` names.
SCOGAN = "scogan/mnist2svhn"


def run_bench(
    device: str = "cpu",
    batch_size: int = 128,
    steps: int = 3,
    variant: str = "SLFR",
    modes=("eager", "function", "xla"),
) -> list[dict]:
    """Seconds per training step in each mode; returns table rows. The family is the
    declaration's run ``variant`` (``scogan/mnist2svhn``) on its smoke-scale data at
    ``batch_size``."""
    from gan_repro.config import load_declaration
    from gan_repro.runner import build_family

    check_choice("variant", variant, load_declaration(SCOGAN).runs)
    rows = []
    with device_scope(device):
        family = build_family(SCOGAN, variant, [f"model.batch_size={batch_size}"])
        batch = next(iter(family.dataset(0)))
        fns = step_modes(family)
        for mode in modes:
            rows.append(timed({"mode": mode}, fns[mode], batch, steps))
    return with_speedup(rows)


def run_lpips_bench(
    device: str = "cpu",
    pairs: int = 1000,
    batch_size: int = 250,
    size: int = 32,
    repeats: int = 2,
    reference_python: str | None = None,
) -> list[dict]:
    """LPIPS (AlexNet v0.1) pairs per second: eager model call vs the compiled ``LPIPS``, and
    the official PyTorch ``lpips`` package on the same workload when a Python that has it is
    given (random weights everywhere: the cost does not depend on them). The reference runs in
    its own process: TensorFlow and a CUDA build of PyTorch in one process can crash."""
    from gan_repro.metrics.lpips import LPIPS

    check_choice("device", device, ("cpu", "gpu"))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (pairs, size, size, 3)).astype(np.float32)
    y = rng.uniform(-1, 1, (pairs, size, size, 3)).astype(np.float32)
    rows = []
    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        metric = LPIPS("alex", weights=None)
        modes = {
            "eager": lambda a, b: metric.model([a, b], training=False)[0],
            "function": metric,
        }
        for mode, fn in modes.items():
            seconds = _time_pairs(fn, x, y, batch_size, repeats)
            rows.append({"mode": mode, "s/step": seconds / pairs, "steps/s": pairs / seconds})
    if reference_python:
        seconds = _reference_seconds(reference_python, device, pairs, batch_size, size, repeats)
        rows.append(
            {
                "mode": "reference lpips (torch)",
                "s/step": seconds / pairs,
                "steps/s": pairs / seconds,
            }
        )
    base = rows[0]["s/step"]
    for r in rows:
        r["speed-up vs eager"] = base / r["s/step"]
    return rows


def _time_pairs(fn, x, y, batch_size, repeats) -> float:
    def once():
        for i in range(0, len(x), batch_size):
            np.asarray(fn(x[i : i + batch_size], y[i : i + batch_size]))

    once()  # warm-up: tracing, allocation
    t0 = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - t0) / repeats


_REFERENCE_SCRIPT = """
import sys, time, numpy as np, torch, lpips
dev, pairs, batch, size, repeats = sys.argv[1], *map(int, sys.argv[2:6])
torch.set_num_threads(max(1, torch.get_num_threads()))
m = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False).to(dev).eval()
rng = np.random.default_rng(0)
x = torch.from_numpy(rng.uniform(-1, 1, (pairs, 3, size, size)).astype(np.float32)).to(dev)
y = torch.from_numpy(rng.uniform(-1, 1, (pairs, 3, size, size)).astype(np.float32)).to(dev)
def once():
    with torch.no_grad():
        for i in range(0, pairs, batch):
            m(x[i:i + batch], y[i:i + batch]).cpu().numpy()
once()
t0 = time.perf_counter()
for _ in range(repeats):
    once()
print("SECONDS", (time.perf_counter() - t0) / repeats)
"""


def _reference_seconds(python, device, pairs, batch_size, size, repeats) -> float:
    """Seconds for ``pairs`` pairs with the official package, run by ``python``."""
    dev = "cuda" if device == "gpu" else "cpu"
    args = [python, "-c", _REFERENCE_SCRIPT, dev, *map(str, (pairs, batch_size, size, repeats))]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0 or "SECONDS" not in proc.stdout:
        raise BadOptionError(
            f"--reference-python {python}: the lpips reference run failed "
            f"(it needs torch and lpips installed): {proc.stderr.strip()[-300:]}"
        )
    return float(proc.stdout.split("SECONDS", 1)[1])


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="gan-repro bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="cpu | gpu")
    p.add_argument("--batch", type=int, default=128, help="batch size (paper: 128)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per mode (0 skips)")
    p.add_argument("--variant", default="SLFR", help="a Table 5.2 column, or none")
    p.add_argument("--modes", default="eager,function,xla")
    p.add_argument("--lpips-pairs", type=int, default=1000, help="0 skips the LPIPS table")
    p.add_argument(
        "--reference-python",
        default=None,
        help="a python with torch + lpips, to time the official package on the same pairs",
    )
    p.add_argument(
        "--face-models",
        default="none",
        help="'all', 'none' or a comma list of dcgan,cgan,cgan-lc,cdcgan,cyclegan",
    )
    p.add_argument("--face-modes", default="keras,eager,function,xla")
    p.add_argument("--cyclegan-size", type=int, default=256, help="thesis: 256")
    p.add_argument(
        "--translation-models",
        default="none",
        help="'all', 'none' or a comma list of cyclegan,unit (the CycleGAN-vs-UNIT steps)",
    )
    p.add_argument("--translation-size", type=int, default=256, help="thesis: 256")
    p.add_argument("--translation-modes", default="eager,function,xla")
    args = p.parse_args(argv)
    tables = []
    if args.translation_models != "none":
        from gan_repro.bench_translation import TRANSLATION_MODELS, run_translation_bench

        models = (
            list(TRANSLATION_MODELS)
            if args.translation_models == "all"
            else args.translation_models.split(",")
        )
        rows = run_translation_bench(
            args.device,
            models,
            args.translation_size,
            max(args.steps, 1),
            args.translation_modes.split(","),
        )
        size = args.translation_size
        tables.append(
            format_table(
                rows,
                f"CycleGAN vs UNIT training steps (Wang 2018), batch 1, {size}x{size}, "
                f"{_where(args.device)}, TF {tf.__version__}",
                leading=("model",),
            )
        )
        print(tables[-1] + "\n", flush=True)
    if args.face_models != "none":
        from gan_repro.bench_face import FACE_MODELS, format_face_table, run_face_bench

        models = list(FACE_MODELS) if args.face_models == "all" else args.face_models.split(",")
        rows = run_face_bench(
            args.device,
            models,
            max(args.steps, 1),
            args.face_modes.split(","),
            args.cyclegan_size,
        )
        tables.append(
            format_face_table(
                rows,
                f"Face-aging training steps at the thesis's batch sizes (CycleGAN "
                f"{args.cyclegan_size}x{args.cyclegan_size}), {_where(args.device)}, "
                f"TF {tf.__version__}",
            )
        )
        print(tables[-1] + "\n", flush=True)
    if args.lpips_pairs:
        lp = run_lpips_bench(args.device, args.lpips_pairs, reference_python=args.reference_python)
        tables.append(
            format_table(
                lp,
                f"LPIPS AlexNet v0.1, {args.lpips_pairs} pairs of 32x32 images, batch 250, "
                f"{args.device}",
                unit="pair",
            )
        )
        print(tables[-1] + "\n", flush=True)
    if args.steps == 0 or args.variant == "none":
        return "\n\n".join(tables)
    rows = run_bench(args.device, args.batch, args.steps, args.variant, args.modes.split(","))
    table = format_table(
        rows,
        f"SCoGAN-{args.variant} training step (5 critic iterations + generator step), "
        f"batch {args.batch}, {_where(args.device)}, TF {tf.__version__}",
    )
    print(table)
    return "\n\n".join([*tables, table])


def _where(device: str) -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and gpus:
        return "GPU " + tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
    return f"CPU ({_cpu_count()} cores)"


def _cpu_count() -> int:
    with contextlib.suppress(Exception):
        import os

        return len(os.sched_getaffinity(0))
    return 0
