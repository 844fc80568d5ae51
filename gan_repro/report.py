"""Thesis-vs-ours tables: every published number beside the run's own, with the difference.

Published numbers live in CSV files kept with the experiments (``experiments/*/published.csv``,
transcribed from the specs with their table ids and thesis line numbers). A run folder's
``config.json`` names its experiment and variant; its ``metrics.json`` (written by
``gan-repro evaluate``) holds our numbers under the same metric names. The report reads nothing
else, so it can be rebuilt at any time from the results folders alone.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from gan_repro.runs import read_json

#: Human names of the three LPIPS measures (SCoGAN spec 5.1) and the real-vs-real baseline.
METRIC_NAMES = {
    "gen1_vs_gen2": "Gen. D1 vs Gen. D2 (same z)",
    "gen1_vs_real1": "Gen. D1 vs Real D1",
    "gen2_vs_real2": "Gen. D2 vs Real D2",
    "real1_vs_real2": "Real D1 vs Real D2 (baseline)",
}


def load_published(path: str | Path) -> list[dict]:
    """Rows of a published-numbers CSV, ``value`` as float."""
    with Path(path).open(newline="") as f:
        return [{**row, "value": float(row["value"])} for row in csv.DictReader(f)]


def _fmt(x) -> str:
    if x is None:
        return "–"
    return str(x) if isinstance(x, int) else f"{x:.4f}"


def _diff(ours, thesis) -> str:
    return "–" if ours is None or thesis is None else f"{ours - thesis:+.4f}"


def collect(run_dirs: list[Path]) -> list[dict]:
    """One record per evaluated run: its config and metrics (runs without metrics are kept,
    with ``metrics=None``, so the report can say they are not evaluated yet)."""
    runs = []
    for run in map(Path, run_dirs):
        config = read_json(run / "config.json")
        metrics_path = run / "metrics.json"
        runs.append(
            {
                "dir": run,
                "config": config,
                "variant": config["variant"],
                "metrics": read_json(metrics_path) if metrics_path.exists() else None,
            }
        )
    return runs


def lpips_table(runs: list[dict], published: list[dict], tables: tuple[str, ...]) -> str:
    """Markdown: for each variant, the thesis's three LPIPS numbers, ours and the difference."""
    thesis = {(row["model"], row["metric"]): row for row in published if row["table"] in tables}
    baseline = next(
        (r for r in published if r["table"] in tables and r["metric"] == "real1_vs_real2"), None
    )
    lines = [
        "| variant | measure | thesis | ours | ours − thesis | thesis source |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        ours = (run["metrics"] or {}).get("lpips", {})
        for metric in ("gen1_vs_gen2", "gen1_vs_real1", "gen2_vs_real2"):
            row = thesis.get((run["variant"], metric))
            value = row["value"] if row else None
            source = f"Table {row['table']} ({row['lines']})" if row else "not published"
            lines.append(
                f"| {run['variant']} | {METRIC_NAMES[metric]} | {_fmt(value)} | "
                f"{_fmt(ours.get(metric))} | {_diff(ours.get(metric), value)} | {source} |"
            )
    if baseline is not None:
        ours_base = next(
            (r["metrics"]["lpips"].get("real1_vs_real2") for r in runs if r["metrics"]), None
        )
        lines.append(
            f"| (data) | {METRIC_NAMES['real1_vs_real2']} | {_fmt(baseline['value'])} | "
            f"{_fmt(ours_base)} | {_diff(ours_base, baseline['value'])} | "
            f"{baseline['lines']} |"
        )
    return "\n".join(lines)


def extra_table(runs: list[dict]) -> str:
    """Markdown: the numbers the thesis lacks (FID, KID, joint agreement), per variant."""
    columns = defaultdict(dict)
    for run in runs:
        m = run["metrics"] or {}
        for group in ("fid", "kid", "agreement"):
            for key, value in (m.get(group) or {}).items():
                if isinstance(value, int | float):
                    columns[f"{group}:{key}"][run["variant"]] = value
    if not columns:
        return "_No FID/KID/agreement numbers in these runs yet._"
    names = sorted(columns)
    lines = ["| variant | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for run in runs:
        cells = [_fmt(columns[n].get(run["variant"])) for n in names]
        lines.append(f"| {run['variant']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    run_dirs: list[Path],
    published_csv: Path,
    tables: tuple[str, ...],
    title: str,
    out: str | Path,
) -> Path:
    """Write the markdown report (with the runs' grids as figures) and return its path."""
    runs = collect(run_dirs)
    published = load_published(published_csv)
    out = Path(out)
    parts = [f"# {title}", ""]
    standin = [r["variant"] for r in runs if r["config"].get("data", {}).get("svhn_standin")]
    if standin:
        parts += [
            "> **WARNING: these runs used a synthetic SVHN STAND-IN, not SVHN** "
            f"({', '.join(standin)}). Their numbers say nothing about the thesis.",
            "",
        ]
    for key, what in (("lpips_weights", "LPIPS"), ("inception_weights", "FID/KID")):
        random = [r["variant"] for r in runs if "RANDOM" in str((r["metrics"] or {}).get(key))]
        if random:
            parts += [
                f"> **WARNING: {what} was computed with RANDOM network weights** "
                f"({', '.join(random)}): the pretrained file was not available offline.",
                "",
            ]
    unevaluated = [r["variant"] for r in runs if r["metrics"] is None]
    if unevaluated:
        parts += [f"Not evaluated yet (`gan-repro evaluate`): {', '.join(unevaluated)}.", ""]
    scales = sorted({r["config"].get("scale", "?") for r in runs})
    parts += [
        f"Scale: {', '.join(scales)}. Thesis tables: {', '.join(tables)}.",
        "",
        "## LPIPS (AlexNet, v0.1), thesis vs ours",
        "",
        lpips_table(runs, published, tables),
        "",
        "## Beyond the thesis",
        "",
        extra_table(runs),
        "",
        "## Sample grids (rows 1-2: G1, rows 3-4: G2 on the same z)",
        "",
    ]
    for run in runs:
        grid = run["dir"] / "grid.png"
        if grid.exists():
            name = run["variant"]
            parts.append(f"**{name}**  \n![{name}]({_link(grid, out.parent)})\n")
    out.write_text("\n".join(parts) + "\n")
    return out


def _link(path: Path, base: Path) -> str:
    """``path`` relative to the report's folder when it lies below it, else absolute."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())
