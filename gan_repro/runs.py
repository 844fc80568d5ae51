"""Run folders: the one place results live (DESIGN.md "Results are data").

A run folder holds ``config.json`` (resolved), ``history.csv``, ``tb/``, ``checkpoints/``,
``samples/`` (fixed-noise grids), ``figures/`` and, once evaluated, ``metrics.json``. Reports
and notebooks read only these files.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np


def _default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(path: str | Path, data: dict) -> Path:
    """Write ``data`` as indented JSON atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_default) + "\n")
    os.replace(tmp, path)
    return path


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def environment() -> dict:
    """Versions and devices, recorded with every run."""
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "devices": [d.name for d in tf.config.list_logical_devices()],
    }


def experiment_parser(prog: str, description: str, scales, choices: tuple[str, str, list]):
    """The command line every experiment script shares: ``--scale``, ``--out``, ``--data-dir``,
    ``--steps``, ``--seed``, ``--jit``, ``--precision``, the pretrained-weights options,
    ``--no-eval`` and ``--no-progress``, plus the script's list of runs ``choices`` =
    ``(option, help name, names)`` (e.g. ``("--variants", "variant", [...])``)."""
    import argparse

    from gan_repro.training.trainer import PRECISIONS

    option, _, names = choices
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--scale", default="paper", help=f"one of {sorted(scales)}")
    p.add_argument(option, default="all", help=f"'all' or a comma list of {list(names)}")
    p.add_argument("--out", default="runs", type=Path, help="results root (default: runs/)")
    p.add_argument("--data-dir", default=None, help="local dataset files (else GAN_REPRO_DATA)")
    p.add_argument("--steps", type=int, default=None, help="override the scale's iterations")
    p.add_argument("--seed", type=int, default=2020)
    p.add_argument("--jit", action="store_true", help="compile the steps with XLA")
    p.add_argument("--precision", default="float32", help=f"one of {PRECISIONS}")
    p.add_argument("--lpips-weights", default="auto", help="auto | default | random | PATH")
    p.add_argument("--inception-weights", default="auto", help="auto | imagenet | random | PATH")
    p.add_argument("--no-eval", action="store_true", help="train only; evaluate later")
    p.add_argument("--no-progress", action="store_true")
    return p


def check_experiment_args(args, scales, choices: tuple[str, str, list]) -> list[str]:
    """Validate the shared options; return the chosen run names (all for 'all')."""
    from gan_repro.errors import check_choice
    from gan_repro.training.trainer import PRECISIONS

    option, what, names = choices
    check_choice("scale", args.scale, scales)
    check_choice("precision", args.precision, PRECISIONS)
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    chosen = list(names) if value == "all" else value.split(",")
    for name in chosen:
        check_choice(what, name, names)
    return chosen
