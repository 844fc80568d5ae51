"""Thesis-vs-ours tables: every published number beside the run's own, with the difference.

The report machinery is generic: a declaration's ``report: {sections: [...], published: CSV,
tables: [...]}`` names the sections (``REPORTS`` entries, ``fn(report: ReportContext) -> str``)
and the published numbers; thesis-specific sections live with the experiment (its hooks).
Published numbers live in CSV files kept with the experiments (``experiments/*/published.csv``,
transcribed from the specs with their table ids and thesis line numbers). A run folder's
``config.json`` names its experiment and variant; its ``metrics.json`` (written by
``gan-repro evaluate``) holds our numbers under the same metric names. The report reads nothing
else, so it can be rebuilt at any time from the results folders alone.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gan_repro.io import atomic_write, read_json
from gan_repro.registry import REPORTS

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


@dataclass
class ReportContext:
    """What a report section gets: the declaration, its runs (config + metrics), the published
    rows, the report's path and the declaration's ``report:`` options."""

    declaration: Any
    runs: list[dict]
    published: list[dict]
    out: Path
    options: dict = field(default_factory=dict)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(str(t) for t in self.options.get("tables", ()))

    @property
    def folder(self) -> Path:
        """The results folder (``runs/<name>/<scale>``)."""
        return self.out.parent


@REPORTS.register("warnings", source="stand-in data, random metric weights, unevaluated runs")
def warnings_section(report: ReportContext) -> str:
    runs, parts = report.runs, []
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
    tables = f" Thesis tables: {', '.join(report.tables)}." if report.tables else ""
    parts.append(f"Scale: {', '.join(scales)}.{tables}")
    return "\n".join(parts)


@REPORTS.register("lpips", source="published LPIPS numbers beside ours (SCoGAN Tables 5.x/7.1)")
def lpips_section(report: ReportContext) -> str:
    return "## LPIPS (AlexNet, v0.1), thesis vs ours\n\n" + lpips_table(
        report.runs, report.published, report.tables
    )


@REPORTS.register("beyond", source="FID, KID and agreement numbers the thesis lacks")
def beyond_section(report: ReportContext) -> str:
    return "## Beyond the thesis\n\n" + extra_table(report.runs)


@REPORTS.register("grids", source="each run's final sample grid")
def grids_section(report: ReportContext) -> str:
    caption = report.options.get("grid_caption", "final samples at fixed noise")
    parts = [f"## Sample grids ({caption})", ""]
    for run in report.runs:
        grid = run["dir"] / "grid.png"
        if grid.exists():
            name = run["variant"]
            parts.append(f"**{name}**  \n![{name}]({_link(grid, report.folder)})\n")
    return "\n".join(parts)


@REPORTS.register("choices", source="the declaration's choices where the thesis is ambiguous")
def choices_section(report: ReportContext) -> str:
    choices = list(report.declaration.choices)
    if not choices:
        return ""
    lines = ["## Choices where the thesis is ambiguous (recorded in every config.json)", ""]
    return "\n".join(lines + [f"- {c}" for c in choices])


#: The sections of a report whose declaration names none.
DEFAULT_SECTIONS = ("warnings", "lpips", "beyond", "grids")


def write_report(declaration, run_dirs: list[Path], out: str | Path) -> Path:
    """The declaration's report of ``run_dirs``: its title, then each of its ``report.sections``
    (``REPORTS`` entries; :data:`DEFAULT_SECTIONS` if it names none), then its choices. Published
    numbers come from ``report.published`` (a CSV beside the declaration)."""
    options = dict(declaration.report)
    out = Path(out)
    published = []
    if options.get("published"):
        published = load_published(Path(declaration.path).parent / options["published"])
    report = ReportContext(declaration, collect(run_dirs), published, out, options)
    parts = [f"# {declaration.title}", ""]
    for name in [*options.get("sections", DEFAULT_SECTIONS), "choices"]:
        text = REPORTS.build(name, report=report)
        if text:
            parts += [text, ""]
    atomic_write(out, "\n".join(parts) + "\n")
    return out


def _link(path: Path, base: Path) -> str:
    """``path`` relative to the report's folder when it lies below it, else absolute."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())
