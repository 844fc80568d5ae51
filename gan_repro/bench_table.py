"""The markdown table every ``gan-repro bench`` section prints (and ``benchmarks/RESULTS.md``
records), and the timing of a family's training step in each mode that the sections share, with
the step's FLOPs (:mod:`gan_repro.bench_flops`) and its share of the measured matmul peak."""

from __future__ import annotations

from gan_repro.bench_flops import device_scope  # noqa: F401  (every bench section's)

#: A family's step as the trainer could run it: op by op, ``tf.function``, XLA.
STEP_MODES = ("eager", "function", "xla")


def step_modes(family) -> dict:
    """``{mode: fn(batch)}`` for :data:`STEP_MODES`: the family's one-replica training step."""
    import tensorflow as tf

    def step(batch):
        return family.train_step(batch, 1)

    return {
        "eager": step,
        "function": tf.function(step),
        "xla": tf.function(step, jit_compile=True),
    }


def timed(row: dict, fn, batch, steps: int) -> dict:
    """``row`` with the seconds and steps per second of ``fn(batch)`` over ``steps`` calls, or
    the error that stopped it (XLA may lack an op on a device: the table says so)."""
    from gan_repro.training.trainer import time_steps

    try:
        seconds = time_steps(fn, batch, steps)
        row.update({"s/step": seconds, "steps/s": 1.0 / seconds})
    except Exception as e:
        row["error"] = f"{type(e).__name__}: {str(e)[:120]}"
    return row


def step_rows(
    leading: dict,
    fns: dict,
    modes,
    batch,
    steps: int,
    flops: bool = True,
    after=None,
) -> list[dict]:
    """One :func:`timed` row per mode (``leading`` + ``{"mode": mode}``) of ``fns[mode]``; with
    ``flops``, every row gets ``"flops"``: the step's FLOPs counted once on the graph of
    ``fns["function"]`` traced on ``batch`` (the trace the function mode ran, reused), since
    every mode runs the same iteration. ``after(leading, fns, batch, modes)`` runs last (e.g. a
    profile of ``fns["function"]``, compiled and run already when "function" is in ``modes``)."""
    rows = [timed({**leading, "mode": mode}, fns[mode], batch, steps) for mode in modes]
    if flops:
        from gan_repro.bench_flops import count_flops

        try:
            count = count_flops(fns["function"], batch)
        except Exception as e:  # the table says why instead of losing the timings
            for r in rows:
                r["flop_notes"] = [f"FLOPs not counted ({type(e).__name__}: {str(e)[:120]})"]
        else:
            for r in rows:
                r["flops"] = count.flops
                if count.notes:
                    r["flop_notes"] = count.notes
    if after is not None:
        after(leading, fns, batch, modes)
    return rows


def with_share(rows: list[dict], peak_flops_per_s: float | None) -> list[dict]:
    """Each row with FLOPs and a time gets ``"flop/s"`` and ``"share"`` of ``peak_flops_per_s``."""
    for r in rows:
        if "flops" in r and "s/step" in r:
            r["flop/s"] = r["flops"] / r["s/step"]
            if peak_flops_per_s:
                r["share"] = r["flop/s"] / peak_flops_per_s
    return rows


#: The caption under a table with FLOP columns.
FLOPS_CAPTION = (
    "GFLOP/step: 2 x the multiply-adds of every matmul and convolution the step runs (forward, "
    "backward and second-order gradients), counted from the shapes of the step's traced graph; "
    "elementwise ops, reductions, normalisation and pooling are not counted. "
    "% of peak: GFLOP/s over the float32 matmul peak measured in this run."
)


def with_speedup(rows: list[dict], base_modes=("eager",), key: str = "speed-up vs eager"):
    """Each timed row's ratio to its model's first timed mode among ``base_modes``."""
    for r in rows:
        timed_modes = {
            x["mode"]: x["s/step"]
            for x in rows
            if x.get("model") == r.get("model") and "s/step" in x
        }
        base = next((timed_modes[m] for m in base_modes if m in timed_modes), None)
        if base and "s/step" in r:
            r[key] = base / r["s/step"]
    return rows


def format_table(
    rows: list[dict],
    title: str,
    unit: str = "step",
    speedup: tuple[str, str] = ("speed-up vs eager", "speed-up vs eager"),
    leading: tuple[str, ...] = (),
) -> str:
    """Markdown table of timing rows: the ``leading`` columns (e.g. "model"), the mode, seconds
    and rate per ``unit``, and the ratio in ``row[speedup[0]]`` headed ``speedup[1]``. When a
    row has ``"flops"`` (:func:`step_rows`), three more columns: GFLOP per step, GFLOP/s
    achieved and the share of the peak (:func:`with_share`), and :data:`FLOPS_CAPTION` below."""
    key, label = speedup
    flops = any("flops" in r for r in rows)
    head = "".join(f"| {c} " for c in leading)
    extra = " GFLOP/step | GFLOP/s | % of peak |" if flops else ""
    lines = [
        title,
        "",
        f"{head}| mode | s/{unit} | {unit}s/s | {label} |{extra}",
        "|---" * (len(leading) + 4 + 3 * flops) + "|",
    ]
    for r in rows:
        cells = "".join(f"| {r[c]} " for c in leading) + f"| {r['mode']} "
        if "error" in r:
            line = f"{cells}| n/a | n/a | {r['error']} |"
        else:
            ratio = f"{r[key]:.2f}x" if key in r else "–"
            line = f"{cells}| {r['s/step']:.4g} | {r['steps/s']:.4g} | {ratio} |"
        if flops:
            gflop = f"{r['flops'] / 1e9:.4g}" if "flops" in r else "n/a"
            rate = f"{r['flop/s'] / 1e9:.4g}" if "flop/s" in r else "n/a"
            share = f"{100 * r['share']:.2f}%" if "share" in r else "n/a"
            line += f" {gflop} | {rate} | {share} |"
        lines.append(line)
    if flops:
        notes = sorted({n for r in rows for n in r.get("flop_notes", ())})
        lines += ["", FLOPS_CAPTION + "".join(f" Note: {n}." for n in notes)]
    return "\n".join(lines)
