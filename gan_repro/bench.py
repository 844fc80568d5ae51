"""``gan-repro bench``: the soft-coupled training step, eager vs ``tf.function`` vs XLA.

Measured as ratios within one run, at the paper's batch size (128). The family is built from its
declaration's paper-scale model section (the run of ``experiments/scogan/mnist2svhn.yaml``) on
random 32x32 images, with an untrained Table B.1 classifier for the semantic loss: the step's
cost depends on neither the pixels nor the weights. The SCoGAN-SLFR step
(5 WGAN-GP critic iterations on both discriminators, then both generators with the semantic
loss and the feature regulariser) is the default; ``--variant`` picks any Table 5.2 column.

Each step table also gives the step's FLOPs counted from its traced graph, the rate achieved and
its share of the float32 matmul peak measured at the start of the run
(:mod:`gan_repro.bench_flops`); ``--profile`` adds the five costliest TF op types of the SCoGAN
and the CycleGAN step under the TensorFlow profiler, and ``--eval`` the evaluation throughput
(:mod:`gan_repro.bench_eval`: LPIPS pairs/s, InceptionV3 images/s, FID/KID statistics).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess

import numpy as np
import tensorflow as tf

from gan_repro.bench_flops import format_profile
from gan_repro.bench_table import (
    device_scope,
    format_table,
    step_modes,
    step_rows,
    with_share,
    with_speedup,
)
from gan_repro.errors import BadOptionError, check_choice

#: The declaration whose runs ``--variant`` names.
SCOGAN = "scogan/mnist2svhn"
#: The network of the semantic loss's classifier (Table B.1, the ``svhn_pruning`` hook's).
SL_CLASSIFIER = "digit_classifier_b1"


def scogan_family(variant: str = "SLFR", batch_size: int = 128, overrides=()):
    """The built family of run ``variant`` of ``scogan/mnist2svhn`` from its paper-scale model
    section at ``batch_size`` (``overrides``: more ``key=value`` tokens), on random uint8 images
    (enough for one step), with an untrained, frozen Table B.1 classifier as the semantic loss's
    and the run's other resources (VGG19 for PL) as the smoke scale makes them."""
    import tempfile
    from pathlib import Path

    import gan_repro.models  # noqa: F401  (fills NETWORKS)
    from gan_repro.config import load_declaration
    from gan_repro.registry import FAMILIES, NETWORKS
    from gan_repro.runner import Context, prepare

    check_choice("variant", variant, load_declaration(SCOGAN).runs)
    s = prepare(SCOGAN, [f"runs={variant}", f"model.batch_size={batch_size}", *overrides])
    cfg = s.configs[0]
    ctx = Context(s.declaration, "smoke", Path(tempfile.mkdtemp(prefix="gan-repro-bench-")))
    resources = {k: ctx.resource(k, spec) for k, spec in cfg.resources.items()}
    classifier = NETWORKS.build(SL_CLASSIFIER, classes=10)
    classifier.trainable = False
    resources["classifier"] = classifier
    n = batch_size * (int(cfg.model_dict().get("n_critic", 1)) + 1)
    rng = np.random.default_rng(0)
    arrays = {
        k: rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for k in ("domain1", "domain2")
    }
    family = FAMILIES.get(cfg.family).from_inputs(
        cfg.model, arrays, seed=cfg.trainer.seed, resources=resources
    )
    family.build()
    return family


def run_bench(
    device: str = "cpu",
    batch_size: int = 128,
    steps: int = 3,
    variant: str = "SLFR",
    modes=("eager", "function", "xla"),
    flops: bool = True,
    after=None,
    overrides=(),
) -> list[dict]:
    """Seconds per training step in each mode, and the step's FLOPs (``flops``); returns table
    rows. The family is :func:`scogan_family` (``variant``, ``batch_size``, ``overrides``);
    ``after(leading, fns, batch, modes)`` runs after the timings (e.g. a profile)."""
    with device_scope(device):
        family = scogan_family(variant, batch_size, overrides)
        batch = next(iter(family.dataset(0)))
        rows = step_rows({}, step_modes(family), modes, batch, steps, flops, after)
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
    from gan_repro.bench_eval import split_batches, time_batches
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
        batches = split_batches((x, y), pairs, batch_size)
        for mode, fn in modes.items():
            seconds = time_batches(fn, batches, repeats)
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
    p.add_argument(
        "--no-flops",
        action="store_true",
        help="skip counting the steps' FLOPs and measuring the matmul peak",
    )
    p.add_argument("--peak-n", type=int, default=4096, help="the peak's square matmul size")
    p.add_argument(
        "--peak-dtypes",
        default=None,
        help="comma list (default: float32 on a CPU, float32,bfloat16 on a GPU); the share of "
        "peak is against the first",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="profile the compiled SCoGAN step and the CycleGAN step: top-5 TF op types",
    )
    p.add_argument("--profile-steps", type=int, default=2, help="profiled steps per model")
    p.add_argument("--profile-logdir", default=None, help="default: a new temporary folder")
    p.add_argument(
        "--profile-size",
        type=int,
        default=None,
        help="the profiled CycleGAN's image size (default: --translation-size)",
    )
    p.add_argument(
        "--eval",
        action="store_true",
        help="evaluation throughput: LPIPS pairs/s, InceptionV3 images/s, FID/KID statistics",
    )
    p.add_argument("--eval-lpips-pairs", type=int, default=2000, help="pairs timed (full: 50k)")
    p.add_argument("--eval-images", type=int, default=192, help="images timed (full: 10k)")
    p.add_argument("--eval-modes", default="function,xla")
    p.add_argument(
        "--eval-stat-features",
        type=int,
        default=10_000,
        help="feature rows per set for the FID statistics (full: 10k; 0 skips)",
    )
    p.add_argument("--eval-kid-subsets", type=int, default=5, help="KID subsets timed (full: 100)")
    args = p.parse_args(argv)
    flops = not args.no_flops
    tables = []

    def emit(text: str) -> None:
        tables.append(text)
        print(text + "\n", flush=True)

    scogan_runs = args.steps != 0 and args.variant != "none"
    step_sections = scogan_runs or any(
        m != "none" for m in (args.face_models, args.translation_models)
    )
    peak = None
    if flops and (step_sections or args.profile):
        from gan_repro.bench_flops import format_peak, measure_peak

        default = "float32,bfloat16" if args.device == "gpu" else "float32"
        peaks = []
        for dtype in (args.peak_dtypes or default).split(","):
            peaks.append(measure_peak(args.device, dtype, args.peak_n))
        peak = peaks[0]["flops_per_s"]
        emit(
            f"Measured peak ({_where(args.device)}, TF {tf.__version__}): "
            + "; ".join(format_peak(x) for x in peaks)
        )

    profiles: dict[str, dict] = {}
    profile_size = args.profile_size or args.translation_size

    def profiler(label: str, only_model: str | None = None):
        if not args.profile:
            return None
        from gan_repro.bench_flops import profile_step

        def after(leading, fns, batch, modes):
            if only_model is None or leading.get("model") == only_model:
                profiles[label] = profile_step(
                    fns["function"],
                    batch,
                    args.profile_steps,
                    args.profile_logdir,
                    warmup="function" not in modes,
                )

        return after

    cyclegan_label = f"CycleGAN (Zhu ResNet-9) step, batch 1, {profile_size}x{profile_size}"
    if args.translation_models != "none":
        from gan_repro.bench_translation import TRANSLATION_MODELS, run_translation_bench

        models = (
            list(TRANSLATION_MODELS)
            if args.translation_models == "all"
            else args.translation_models.split(",")
        )
        size = args.translation_size
        rows = run_translation_bench(
            args.device,
            models,
            size,
            max(args.steps, 1),
            args.translation_modes.split(","),
            flops,
            profiler(cyclegan_label, "cyclegan") if size == profile_size else None,
        )
        emit(
            format_table(
                with_share(rows, peak),
                f"CycleGAN vs UNIT training steps (Wang 2018), batch 1, {size}x{size}, "
                f"{_where(args.device)}, TF {tf.__version__}",
                leading=("model",),
            )
        )
    if args.face_models != "none":
        from gan_repro.bench_face import FACE_MODELS, format_face_table, run_face_bench

        models = list(FACE_MODELS) if args.face_models == "all" else args.face_models.split(",")
        rows = run_face_bench(
            args.device,
            models,
            max(args.steps, 1),
            args.face_modes.split(","),
            args.cyclegan_size,
            flops,
        )
        emit(
            format_face_table(
                with_share(rows, peak),
                f"Face-aging training steps at the thesis's batch sizes (CycleGAN "
                f"{args.cyclegan_size}x{args.cyclegan_size}), {_where(args.device)}, "
                f"TF {tf.__version__}",
            )
        )
    if args.lpips_pairs:
        lp = run_lpips_bench(args.device, args.lpips_pairs, reference_python=args.reference_python)
        emit(
            format_table(
                lp,
                f"LPIPS AlexNet v0.1, {args.lpips_pairs} pairs of 32x32 images, batch 250, "
                f"{args.device}",
                unit="pair",
            )
        )
    if args.eval:
        from gan_repro.bench_eval import format_eval_table, run_eval_bench

        rows = run_eval_bench(
            args.device,
            args.eval_lpips_pairs,
            args.eval_images,
            args.eval_modes.split(","),
            args.eval_stat_features,
            args.eval_kid_subsets,
        )
        emit(
            format_eval_table(
                rows,
                f"Evaluation throughput (random weights), {_where(args.device)}, "
                f"TF {tf.__version__}",
            )
        )
    profiled = "SLFR" if args.variant == "none" else args.variant  # profiled even when not timed
    scogan_label = f"SCoGAN-{profiled} step, batch {args.batch}"
    if scogan_runs:
        rows = run_bench(
            args.device,
            args.batch,
            args.steps,
            args.variant,
            args.modes.split(","),
            flops,
            profiler(scogan_label),
        )
        emit(
            format_table(
                with_share(rows, peak),
                f"SCoGAN-{args.variant} training step (5 critic iterations + generator step), "
                f"batch {args.batch}, {_where(args.device)}, TF {tf.__version__}",
            )
        )
    if args.profile:
        _profile_missing(args, profiles, scogan_label, cyclegan_label, profile_size)
        for label, prof in profiles.items():
            emit(format_profile(prof, f"Profile of the compiled {label}"))
    return "\n\n".join(tables)


def _profile_missing(args, profiles, scogan_label, cyclegan_label, size) -> None:
    """Profile the SCoGAN and CycleGAN steps that the timed sections did not build."""
    from gan_repro.bench_flops import profile_step
    from gan_repro.bench_translation import translation_family

    with device_scope(args.device):
        builders = {
            scogan_label: lambda: scogan_family(
                "SLFR" if args.variant == "none" else args.variant, args.batch
            ),
            cyclegan_label: lambda: translation_family("cyclegan", size),
        }
        for label, build in builders.items():
            if label not in profiles:
                family = build()
                batch = next(iter(family.dataset(0)))
                fn = step_modes(family)["function"]
                profiles[label] = profile_step(fn, batch, args.profile_steps, args.profile_logdir)


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
