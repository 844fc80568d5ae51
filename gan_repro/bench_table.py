"""The markdown table every ``gan-repro bench`` section prints (and ``benchmarks/RESULTS.md``
records)."""

from __future__ import annotations


def format_table(
    rows: list[dict],
    title: str,
    unit: str = "step",
    speedup: tuple[str, str] = ("speed-up vs eager", "speed-up vs eager"),
    leading: tuple[str, ...] = (),
) -> str:
    """Markdown table of timing rows: the ``leading`` columns (e.g. "model"), the mode, seconds
    and rate per ``unit``, and the ratio in ``row[speedup[0]]`` headed ``speedup[1]``."""
    key, label = speedup
    head = "".join(f"| {c} " for c in leading)
    lines = [
        title,
        "",
        f"{head}| mode | s/{unit} | {unit}s/s | {label} |",
        "|---" * (len(leading) + 4) + "|",
    ]
    for r in rows:
        cells = "".join(f"| {r[c]} " for c in leading) + f"| {r['mode']} "
        if "error" in r:
            lines.append(f"{cells}| n/a | n/a | {r['error']} |")
        else:
            ratio = f"{r[key]:.2f}x" if key in r else "–"
            lines.append(f"{cells}| {r['s/step']:.4g} | {r['steps/s']:.4g} | {ratio} |")
    return "\n".join(lines)
