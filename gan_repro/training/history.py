"""Loss history: a CSV in the run folder plus TensorBoard scalars."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import tensorflow as tf

from gan_repro.io import atomic_write


class History:
    """Rows of ``{"step": int, <loss>: float, ...}``, written to ``history.csv`` as they come.

    On resume the rows logged after the restored checkpoint are dropped, so the file always
    describes exactly one uninterrupted run. A run killed at any moment (SIGKILL, power cut of
    the process) leaves at worst a last line without its newline, which :meth:`resume_at`
    drops with the rows after the checkpoint; floats are written as ``repr`` and read back
    exactly, so a resumed file is byte for byte the file of an uninterrupted run.
    """

    def __init__(self, path: Path, tensorboard_dir: Path | None = None):
        self.path = Path(path)
        self.rows: list[dict] = []
        self._writer = (
            tf.summary.create_file_writer(str(tensorboard_dir)) if tensorboard_dir else None
        )

    def resume_at(self, step: int) -> None:
        """Load rows up to ``step`` from an earlier run's CSV and rewrite the file atomically."""
        self.rows = [r for r in read_rows(self.path) if r["step"] <= step]
        self._rewrite()

    def _rewrite(self) -> None:
        text = io.StringIO(newline="")
        if self.rows:
            writer = csv.DictWriter(text, fieldnames=list(self.rows[0]))
            writer.writeheader()
            writer.writerows(self.rows)
        atomic_write(self.path, text.getvalue().encode())

    def append(self, step: int, values: dict[str, float]) -> None:
        row = {"step": int(step), **{k: float(v) for k, v in values.items()}}
        new_file = not self.rows
        self.rows.append(row)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        if self._writer is not None:
            with self._writer.as_default(step=step):
                for k, v in values.items():
                    tf.summary.scalar(k, v)

    def image(self, name: str, step: int, image) -> None:
        """Log an HxWxC uint8/float image to TensorBoard."""
        if self._writer is not None:
            with self._writer.as_default(step=step):
                tf.summary.image(name, tf.convert_to_tensor(image)[None])

    def column(self, name: str) -> list[float]:
        return [row[name] for row in self.rows]

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()


def read_rows(path: str | Path) -> list[dict]:
    """The complete rows of a history CSV (``[]`` if there is none). A last line without its
    newline, or a row missing fields, is what a killed writer left half written: dropped."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as f:
        text = f.read()
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    rows = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        if None in row or any(v in (None, "") for v in row.values()):
            continue
        rows.append({k: (int(v) if k == "step" else float(v)) for k, v in row.items()})
    return rows


def all_finite(values: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in values.values())
