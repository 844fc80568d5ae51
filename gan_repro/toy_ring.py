"""The toy ring experiment's registry entries: its dataset, its evaluator and its figures.

The pieces live in :mod:`gan_repro.data.ring`, :mod:`gan_repro.metrics.ring`,
:mod:`gan_repro.viz.ring` and the ``toy`` family (:mod:`gan_repro.training.toy`); this module
names them for declarations (``experiments/scogan/toy-ring.yaml``).
"""

from __future__ import annotations

from pathlib import Path

from gan_repro.data.registered import Inputs
from gan_repro.data.ring import RING_POINTS, ring_points
from gan_repro.metrics.ring import ring_report
from gan_repro.registry import DATASETS, EVALUATORS, FIGURES, REPORTS
from gan_repro.viz import ring as ring_viz
from gan_repro.viz.figures import not_run_figure


@DATASETS.register("ring", source="SCoGAN thesis Fig 2.9 (L370): 5,100 points, 10 modes")
def ring_dataset(ctx, n: int = RING_POINTS) -> Inputs:
    """The 10-mode ring (:func:`gan_repro.data.ring.ring_points`), seeded by the run's seed."""
    points = ring_points(n, seed=ctx.seed)
    return Inputs({"points": points}, {"points": len(points), "source": "ring_points, seeded"})


@EVALUATORS.register("ring_modes", source="modes covered and high-quality share (VEEGAN et al.)")
def ring_modes(run) -> dict:
    """Modes covered and the share of high-quality samples among ``ring_samples`` points drawn
    from the newest checkpoint (:func:`gan_repro.metrics.ring.ring_report`)."""
    family, step = run.load()
    n = int(run.options.get("ring_samples", 2500))
    points = family.generate(n, seed=run.config["trainer"]["seed"] + 1)
    report = ring_report(points, min_count=int(run.options.get("min_count", 1)))
    # the strict count: a mode holds at least a tenth of an even share of the samples
    strict = max(1, n // (10 * len(report["mode_counts"])))
    report["modes_covered_strict"] = sum(c >= strict for c in report["mode_counts"])
    report["strict_min_count"] = strict
    return {"step": step, "ring": report}


@FIGURES.register("ring_dataset", source="SCoGAN thesis Fig 2.9")
def ring_dataset_figure(ctx, file: str) -> Path:
    return ring_viz.dataset_figure(ctx.out / "figures" / file, seed=ctx.seed)


@FIGURES.register("ring_training", source="SCoGAN thesis Figs 2.10, 2.11, 2.14")
def ring_training_figure(ctx, file: str, run: str, title: str = "", steps=None) -> Path:
    out = ctx.out / "figures" / file
    if not list((ctx.out / run / "samples").glob("points_*.npy")):
        return not_run_figure(out, title, run)
    return ring_viz.training_figure(ctx.out / run, out, steps, title)


@FIGURES.register("ring_critic_loss", source="SCoGAN thesis Fig 2.15")
def ring_critic_loss(ctx, file: str, run: str, title: str = "") -> Path:
    out = ctx.out / "figures" / file
    if not (ctx.out / run / "history.csv").exists():
        return not_run_figure(out, title, run)
    return ring_viz.critic_loss_figure(ctx.out / run, out, title)


@FIGURES.register("jsd_shift", source="SCoGAN thesis Fig 2.7 (Appendix C script)")
def jsd_shift(ctx, file: str, samples: int = 100_000) -> Path:
    return ring_viz.jsd_shift_figure(ctx.out / "figures" / file, samples=samples, seed=ctx.seed)


@FIGURES.register("wasserstein_shift", source="SCoGAN thesis Fig 2.12 (Appendix C script)")
def wasserstein_shift(ctx, file: str, samples: int = 100_000) -> Path:
    return ring_viz.wasserstein_shift_figure(
        ctx.out / "figures" / file, samples=samples, seed=ctx.seed
    )


@REPORTS.register("ring_modes", source="modes covered per run beside the thesis's counts")
def ring_section(report) -> str:
    """Modes covered and high-quality share per run, beside the thesis's visual counts
    (the published CSV's ``modes_covered`` rows: 10 at k=1, about 6 at k=5, L392-404)."""
    thesis = {r["model"]: r for r in report.published if r["metric"] == "modes_covered"}
    lines = [
        "## Modes covered (of 10) and high-quality share",
        "",
        "| run | thesis modes | ours (>= 1 point) | ours (>= 1/10 of an even share) | "
        "high-quality share | step | thesis source |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in report.runs:
        ring = (run["metrics"] or {}).get("ring", {})
        row = thesis.get(run["variant"])
        said = f"{row['value']:g}" if row else "–"
        source = f"{row['lines']} ({row['note']})" if row else "not published"
        share = ring.get("high_quality")
        lines.append(
            f"| {run['variant']} | {said} | {ring.get('modes_covered', '–')} | "
            f"{ring.get('modes_covered_strict', '–')} | "
            f"{'–' if share is None else f'{share:.3f}'} | "
            f"{(run['metrics'] or {}).get('step', '–')} | {source} |"
        )
    return "\n".join(lines)
