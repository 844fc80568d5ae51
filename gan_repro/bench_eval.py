"""``gan-repro bench --eval``: how long the evaluation of a paper-scale run takes.

SCoGAN's Table 5.2 takes LPIPS (AlexNet v0.1) over 50,000 pairs of 32x32 images per number (the
``coupled_lpips`` evaluator gives three numbers and a real-vs-real baseline: 4 x 50,000 pairs),
and this suite adds FID/KID over 10,000 images per domain (``coupled_fid``: InceptionV3 pool
features of 10,000 generated and 10,000 real images per domain, then the statistics). Each is
timed here as the evaluators run it, on random inputs and random weights (the cost depends on
neither):

* LPIPS ``function``: :class:`~gan_repro.metrics.lpips.LPIPS` called on batches of 250 pairs, as
  :func:`~gan_repro.metrics.coupled.lpips_measures` does (one ``tf.function`` for every batch);
  ``xla``: the same model under ``tf.function(jit_compile=True)``.
* InceptionV3 ``function``: :func:`~gan_repro.metrics.fid.extract_features` on batches of 64
  (its ``tf.function``; the 32x32 images are resized to 299x299 inside the model); ``xla``: the
  same model under ``jit_compile``.
* FID statistics (mean, covariance and the ``eigh`` Fréchet distance the evaluator uses) of two
  ``10,000 x 2048`` feature sets, and KID (100 subsets of 1,000, unbiased polynomial MMD), in
  NumPy float64 as :mod:`gan_repro.metrics.fid` computes them.

A CPU may time a subset (``measured``) and extrapolate linearly to the full size; the table gives
both.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from gan_repro.bench_table import device_scope
from gan_repro.errors import check_choice

LPIPS_PAIRS = 50_000  # Table 5.2, per number
FID_IMAGES = 10_000  # per set (generated or real) and domain
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000
EVAL_MODES = ("function", "xla")


def _row(work, mode, measured, unit, seconds, full) -> dict:
    rate = measured / seconds
    return {
        "work": work,
        "mode": mode,
        "measured": measured,
        "unit": unit,
        "seconds": seconds,
        "rate": rate,
        "full": full,
        "full_s": full / rate,
    }


def time_batches(fn, batches, repeats: int = 1) -> float:
    """Seconds per pass of ``fn`` over every batch (the mean of ``repeats`` passes), after a
    warm-up call on the first batch and on a shorter last one (tracing, compilation)."""
    np.asarray(fn(*batches[0]))
    if len(batches[-1][0]) != len(batches[0][0]):
        np.asarray(fn(*batches[-1]))
    t0 = time.perf_counter()
    for _ in range(repeats):
        for b in batches:
            np.asarray(fn(*b))
    return (time.perf_counter() - t0) / repeats


def split_batches(arrays, n: int, batch_size: int) -> list[tuple]:
    """The first ``n`` rows of each of ``arrays``, as tuples of ``batch_size`` rows."""
    return [tuple(a[i : i + batch_size] for a in arrays) for i in range(0, n, batch_size)]


def lpips_rows(pairs: int, modes, batch_size: int = 250, size: int = 32) -> list[dict]:
    """LPIPS AlexNet v0.1 over ``pairs`` pairs (rounded up to whole batches) per mode."""
    from gan_repro.metrics.lpips import LPIPS

    pairs = -(-pairs // batch_size) * batch_size
    rng = np.random.default_rng(0)
    x, y = (rng.uniform(-1, 1, (pairs, size, size, 3)).astype(np.float32) for _ in range(2))
    metric = LPIPS("alex", weights=None)
    fns = {
        "function": metric,  # what the evaluator calls
        "xla": tf.function(lambda a, b: metric.model([a, b], training=False)[0], jit_compile=True),
    }
    work = f"LPIPS AlexNet v0.1, {size}x{size} pairs, batch {batch_size}"
    batches = split_batches((x, y), pairs, batch_size)
    return [_row(work, m, pairs, "pair", time_batches(fns[m], batches), LPIPS_PAIRS) for m in modes]


def inception_rows(images: int, modes, batch_size: int = 64, size: int = 32) -> list[dict]:
    """InceptionV3 pool features of ``images`` images (rounded up to whole batches) per mode."""
    from gan_repro.metrics.fid import extract_features, inception_features

    images = -(-images // batch_size) * batch_size
    x = np.random.default_rng(1).uniform(-1, 1, (images, size, size, 3)).astype(np.float32)
    model = inception_features(weights=None)
    xla = tf.function(lambda a: model(a, training=False), jit_compile=True)
    fns = {
        "function": lambda a: extract_features(model, a, batch_size),  # the evaluator's call
        "xla": xla,
    }
    work = f"InceptionV3 pool features, {size}x{size} -> 299x299, batch {batch_size}"
    batches = split_batches((x,), images, batch_size)
    return [
        _row(work, m, images, "image", time_batches(fns[m], batches), FID_IMAGES) for m in modes
    ]


def statistics_rows(features: int = FID_IMAGES, kid_subsets: int = 5) -> list[dict]:
    """FID (``eigh``) of two ``features`` x 2048 sets, timed once (extrapolated linearly to
    10,000 when fewer; below 2,049 samples FID takes its exact small-sample path), and KID over
    ``kid_subsets`` subsets of min(1,000, ``features``), extrapolated to 100 subsets."""
    from gan_repro.metrics.fid import FEATURE_DIM, fid_from_features, kernel_inception_distance

    rng = np.random.default_rng(2)
    fa, fb = (rng.random((features, FEATURE_DIM), np.float32) for _ in range(2))
    t0 = time.perf_counter()
    fid_from_features(fa, fb, method="eigh")
    fid_s = time.perf_counter() - t0
    m = min(KID_SUBSET_SIZE, features)
    t0 = time.perf_counter()
    kernel_inception_distance(fa, fb, num_subsets=kid_subsets, subset_size=m)
    kid_s = time.perf_counter() - t0
    return [
        _row(
            f"FID statistics (mean, covariance, eigh) of 2 sets x {FEATURE_DIM}",
            "numpy float64",
            features,
            "image",
            fid_s,
            FID_IMAGES,
        ),
        _row(
            f"KID, subsets of {m} (full: {KID_SUBSETS} of {KID_SUBSET_SIZE})",
            "numpy float64",
            kid_subsets,
            "subset",
            kid_s,
            KID_SUBSETS,
        ),
    ]


def run_eval_bench(
    device: str = "cpu",
    lpips_pairs: int = 2000,
    fid_images: int = 192,
    modes=EVAL_MODES,
    stat_features: int = FID_IMAGES,
    kid_subsets: int = 5,
) -> list[dict]:
    """The evaluation's throughput rows (see the module doc); 0 skips a part."""
    for m in modes:
        check_choice("eval mode", m, EVAL_MODES)
    rows = []
    with device_scope(device):
        if lpips_pairs:
            rows += lpips_rows(lpips_pairs, modes)
        if fid_images:
            rows += inception_rows(fid_images, modes)
    if stat_features:
        rows += statistics_rows(stat_features, kid_subsets)
    return rows


def eval_totals(rows: list[dict]) -> dict:
    """Seconds of the full evaluation of one SCoGAN run from the rows' fastest modes: Table 5.2's
    LPIPS (4 x 50,000 pairs) and FID/KID of both domains (2 x 2 x 10,000 images, statistics
    and KID per domain)."""
    best: dict[str, float] = {}
    for r in rows:
        best[r["work"]] = min(best.get(r["work"], float("inf")), r["full_s"])
    out = {}
    for work, s in best.items():
        if work.startswith("LPIPS"):
            out["lpips (4 x 50,000 pairs)"] = 4 * s
        elif work.startswith("Inception"):
            out["inception (4 x 10,000 images)"] = 4 * s
        else:
            out.setdefault("statistics (2 domains)", 0.0)
            out["statistics (2 domains)"] += 2 * s
    return out


def format_eval_table(rows: list[dict], title: str) -> str:
    """Markdown table of :func:`run_eval_bench`'s rows and the full-size totals below."""
    lines = [
        title,
        "",
        "| work | mode | measured | s | per s | full size | s at full size |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        unit = r["unit"]
        lines.append(
            f"| {r['work']} | {r['mode']} | {r['measured']:,} {unit}s | {r['seconds']:.4g} | "
            f"{r['rate']:.4g} {unit}s/s | {r['full']:,} {unit}s | {r['full_s']:.4g} |"
        )
    totals = eval_totals(rows)
    if totals:
        parts = ", ".join(f"{k} {v:.4g} s" for k, v in totals.items())
        lines += [
            "",
            f"One SCoGAN run's evaluation at full size, fastest mode of each: {parts}; "
            f"total {sum(totals.values()):.4g} s.",
        ]
    return "\n".join(lines)
