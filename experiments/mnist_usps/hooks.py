"""What the two MNIST <-> USPS CycleGAN declarations cannot say in YAML, registered by name.

* ``digit_preparation`` (FIGURES): report 002's Fig 1, MNIST and USPS digits at their native
  size beside the bilinear 128 x 128 versions the networks see (L140, L152);
* ``mnist_usps`` (REPORTS): every number and verbal claim of the two reports beside our
  measurement of it, and the domain-adaptation literature's MNIST -> USPS accuracies as context.

The runner imports this module because the declarations' ``hooks:`` name it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gan_repro.io import atomic_save, read_json
from gan_repro.registry import FIGURES, REPORTS
from gan_repro.viz.figures import read_history


@FIGURES.register("digit_preparation", source="Grignon & Joly 2020 Fig 1 (L140, L152)")
def digit_preparation_figure(ctx, file: str, title: str, index: int = 0):
    """(a) an MNIST digit at 28 x 28, (b) the same upsampled as the run's data section says,
    (c) a USPS digit at 16 x 16, (d) upsampled: Fig 1's four panels."""
    from gan_repro.data.transforms import prepare_digits

    spec = dict(ctx.configs[next(iter(ctx.configs))].data) if ctx.configs else None
    if spec is None:
        from gan_repro.config import resolve_run

        decl = ctx.declaration
        spec = resolve_run(decl, next(iter(decl.runs)), ctx.scale).data
    inputs = ctx.inputs(spec)
    prep = inputs.record["preparation"]
    mnist, usps = inputs.resources["domains"]
    panels = []
    for name, domain in (("MNIST", mnist), ("USPS", usps)):
        native = domain.images[index]
        big = prepare_digits(native[None], prep["size"], prep["channels"])[0]
        h = native.shape[0]
        panels += [(f"{name} {h}x{h}", native), (f"{name} upsampled {prep['size']}", big)]
    fig = Figure(figsize=(10, 2.9))
    for k, (ax, (caption, image)) in enumerate(zip(fig.subplots(1, 4), panels, strict=True)):
        ax.imshow(image[..., 0] if image.ndim == 3 else image, cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"({'abcd'[k]}) {caption}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = ctx.out / "figures" / file
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=130))


# ------------------------------------------------------------------------------------- report
def _f(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _trend(run: dict, key: str, chunks: int = 5, upto: int | None = None) -> list[float] | None:
    """Mean of the logged ``key`` over ``chunks`` equal parts of the run's first ``upto`` steps
    (all by default; its epochs when the run is 5 or 10 epochs long): how a claim about a loss
    "increasing" is checked, and a baseline compared with a shorter ablation over the same
    steps."""
    path = run["dir"] / "history.csv"
    if not path.exists():
        return None
    h = read_history(path)
    if key not in h:
        return None
    values = h[key] if upto is None else h[key][h["step"] <= upto]
    if len(values) < chunks:
        return None
    return [float(np.mean(part)) for part in np.array_split(values, chunks)]


def _increasing(values: list[float] | None) -> str:
    if not values:
        return "–"
    rising = sum(b > a for a, b in zip(values, values[1:], strict=False))
    shown = ", ".join(f"{v:.3f}" for v in values)
    return f"{shown} ({rising} of {len(values) - 1} steps up)"


def _by_variant(report) -> dict[str, dict]:
    return {r["variant"]: r for r in report.runs}


def _metric(run: dict | None, *path):
    value = (run or {}).get("metrics") or {}
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _runs_table(report) -> list[str]:
    lines = [
        "| run | steps | G_AB(MNIST) judged as USPS | G_BA(USPS) judged as MNIST | MNIST judge on "
        "USPS (source only) | adapted classifier on USPS | FID G_AB(MNIST) vs USPS (untranslated)"
        " | last-fifth D / G loss |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in report.runs:
        m = run["metrics"] or {}
        t, fd = m.get("translation", {}), m.get("feature_distances", {})
        d, g = _trend(run, "d_loss"), _trend(run, "g_loss")
        lines.append(
            f"| {run['variant']} | {m.get('step', '–')} | {_f(t.get('mnist_to_usps'))} | "
            f"{_f(t.get('usps_to_mnist'))} | {_f(t.get('source_only_mnist_clf_on_usps'))} | "
            f"{_f(_metric(run, 'adaptation', 'adapted_clf_on_usps'))} | "
            f"{_f(_metric(run, 'feature_distances', 'mnist_to_usps', 'fid'), 2)} "
            f"({_f((fd.get('mnist_untranslated_vs_usps') or {}).get('fid'), 2)}) | "
            f"{_f(d[-1] if d else None)} / {_f(g[-1] if g else None)} |"
        )
    return lines


def _judges(report) -> list[str]:
    run = next((r for r in report.runs if r["metrics"]), None)
    judges = _metric(run, "judges") or {}
    lines = ["| judge | trained on | held-out accuracy |", "|---|---|---|"]
    for key, name in (("a", "MNIST"), ("b", "USPS")):
        j = judges.get(key) or {}
        lines.append(
            f"| {name} ({j.get('network', '–')}) | {j.get('source', '–')} | "
            f"{_f(j.get('held_out_accuracy'))} on {j.get('held_out', '–')} |"
        )
    return lines


def _claims_grignon(report, runs: dict) -> list[str]:
    base = runs.get("baseline")
    pub = {r["metric"]: r for r in report.published if r["model"] == "baseline"}
    d_base = _trend(base, "d_loss") if base else None
    over = _metric(base, "over_steps") or []
    first, last = (over[0], over[-1]) if over else (None, None)
    rows = [
        (
            "the discriminator converges immediately to a value close to 8 (L202)",
            "8",
            f"D loss per fifth of the baseline: {_increasing(d_base)}",
        ),
        (
            "the digit is somewhat well translated at the first epoch, deteriorates at the 10th"
            " (L189)",
            "–",
            "G_AB(MNIST) label kept at the first / last checkpoint: "
            + (
                f"{_f(first['mnist_to_usps'])} (step {first['step']}) / "
                f"{_f(last['mnist_to_usps'])} (step {last['step']})"
                if over
                else "–"
            ),
        ),
    ]
    for run, claim in (
        ("lambda0", "lambda_cycle 0 has surprisingly no deleterious effect on the losses (L202)"),
        ("lambda30", "lambda_cycle 30: the generator loss increases step by step (L202)"),
        ("lr0.001", "lr 1e-3: the generator loss is higher (L206)"),
        ("lr0.01", "lr 1e-2: the generator loss is higher and even increasing (L206)"),
    ):
        r = runs.get(run)
        g = _trend(r, "g_loss") if r else None
        acc = _metric(r, "translation", "mnist_to_usps")
        steps = r["config"]["trainer"]["steps"] if r else None
        same = _trend(base, "g_loss", upto=steps) if base and g else None
        ours = (
            f"G loss per fifth: {_increasing(g)}; the baseline's over the same {steps:,} steps: "
            f"{_increasing(same)}; label kept {_f(acc)} (the baseline at that step: "
            f"{_f(_at_step(base, steps))})"
            if g
            else "not run"
        )
        rows.append((claim, "–", ours))
    seconds = pub.get("seconds_per_epoch")
    timings = report.folder / "timings.json"
    if seconds and timings.exists() and base:
        spent = read_json(timings)["seconds_per_run"].get("baseline")
        epoch = base["config"]["data"].get("epoch_examples")
        steps = base["config"]["trainer"]["steps"]
        if spent and epoch:
            rows.append(
                (
                    "each epoch takes approximately 28 min (2012.5 seconds) (L176)",
                    f"{seconds['value']:g} s",
                    f"{spent / steps * epoch:.1f} s per {epoch:,}-step epoch here",
                )
            )
    return _claim_lines(rows)


def _claims_kasmi(report, runs: dict) -> list[str]:
    run = runs.get("cyclegan")
    over = _metric(run, "over_steps") or []
    at = {p["step"]: p for p in over}
    a, b = at.get(200), at.get(1000)
    ours = "–"
    if a and b:
        ours = (
            f"label kept at 200 / 1,000: G(MNIST) {_f(a['mnist_to_usps'])} / "
            f"{_f(b['mnist_to_usps'])}, F(USPS) {_f(a['usps_to_mnist'])} / "
            f"{_f(b['usps_to_mnist'])}"
        )
    rows = [
        (
            "satisfactory images even after 200 iterations; no obvious differences between "
            "200 and 1,000 (L184)",
            "–",
            ours,
        ),
        (
            "generated MNIST look very much like their original image in the USPS dataset (L186)",
            "–",
            f"MNIST judge on F(USPS test): {_f(_metric(run, 'translation', 'usps_to_mnist'))}",
        ),
    ]
    mean = runs.get("mean-l1")
    if mean:
        rows.append(
            (
                "(spec 004 8.4) lambda 0.045 on a per-pixel mean L1 makes the cycle term vanish",
                "–",
                f"mean-l1 run: last-fifth cycle_A {_f((_trend(mean, 'cycle_A') or [None])[-1])}"
                f" vs summed run's per-pixel {_f(_per_pixel(run))}; label kept "
                f"{_f(_metric(mean, 'translation', 'mnist_to_usps'))}",
            )
        )
    return _claim_lines(rows)


def _at_step(run: dict | None, step: int | None) -> float | None:
    """The run's G_AB(MNIST) label preservation at a kept checkpoint ``step``."""
    points = {p["step"]: p for p in _metric(run, "over_steps") or []}
    return points[step]["mnist_to_usps"] if step in points else None


def _per_pixel(run) -> float | None:
    trend = _trend(run, "cycle_A") if run else None
    if not trend:
        return None
    h, w, _ = run["config"]["model"]["image_shape"]
    return trend[-1] / (h * w)


def _claim_lines(rows) -> list[str]:
    lines = ["| the report says | its number | ours |", "|---|---|---|"]
    return lines + [f"| {claim} | {theirs} | {ours} |" for claim, theirs, ours in rows]


def _context(report) -> list[str]:
    lines = [
        "| method | MNIST -> USPS accuracy | protocol | source |",
        "|---|---|---|---|",
    ]
    for row in report.published:
        if row["study"] == "literature":
            lines.append(
                f"| {row['model']} | {row['value']:.4f} | {row['note']} | {row['lines']} |"
            )
    for run in report.runs:
        adapted = _metric(run, "adaptation")
        if adapted:
            lines.append(
                f"| ours: {run['variant']} (CycleGAN pixel-level) | "
                f"{adapted['adapted_clf_on_usps']:.4f} (source only "
                f"{adapted['source_only_clf_on_usps']:.4f}) | {adapted['protocol']} | this run |"
            )
    return lines


@REPORTS.register("mnist_usps", source="both MNIST<->USPS reports' claims beside our numbers")
def mnist_usps_section(report) -> str:
    """The report's body: the judges, every run's numbers, each claim of the study's report
    (``report.study``: grignon or kasmi) beside its measurement, and the literature's context."""
    runs = _by_variant(report)
    study = report.options.get("study", "grignon")
    claims = _claims_grignon if study == "grignon" else _claims_kasmi
    parts = [
        "## The judges (ours: one LeNet-5 style digit classifier per domain)",
        "",
        *_judges(report),
        "",
        "## Every run (accuracies on the held-out test digits; FID in the USPS judge's features)",
        "",
        *_runs_table(report),
        "",
        "## What the report says, beside what we measure",
        "",
        *claims(report, runs),
        "",
        "## Context: published MNIST -> USPS adaptation accuracies",
        "",
        "Label preservation (a judge of the target domain reading translated test digits) is not "
        "the literature's protocol; the adapted classifier (trained on translated MNIST with "
        "its labels, tested on real USPS) is, up to the split sizes named in each row.",
        "",
        *_context(report),
    ]
    return "\n".join(parts)
