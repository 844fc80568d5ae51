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
