"""The markdown table every ``gan-repro bench`` section prints (and ``benchmarks/RESULTS.md``
records), and the timing of a family's training step in each mode that the sections share."""

from __future__ import annotations

#: A family's step as the trainer could run it: op by op, ``tf.function``, XLA.
STEP_MODES = ("eager", "function", "xla")


def device_scope(device: str):
    """``tf.device`` of ``device`` ("cpu" or "gpu"; refused when TensorFlow sees no GPU)."""
    import tensorflow as tf

    from gan_repro.errors import BadOptionError, check_choice

    check_choice("device", device, ("cpu", "gpu"))
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise BadOptionError("--device gpu: TensorFlow sees no GPU on this machine")
    return tf.device("/GPU:0" if device == "gpu" else "/CPU:0")


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
