"""Loss history: a CSV in the run folder plus TensorBoard scalars."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import tensorflow as tf


class History:
    """Rows of ``{"step": int, <loss>: float, ...}``, written to ``history.csv`` as they come.

    On resume the rows logged after the restored checkpoint are dropped, so the file always
    describes exactly one uninterrupted run.
    """

    def __init__(self, path: Path, tensorboard_dir: Path | None = None):
        self.path = Path(path)
        self.rows: list[dict] = []
        self._writer = (
            tf.summary.create_file_writer(str(tensorboard_dir)) if tensorboard_dir else None
        )

    def resume_at(self, step: int) -> None:
        """Load rows up to ``step`` from an earlier run's CSV and rewrite the file atomically."""
        if self.path.exists():
            with self.path.open(newline="") as f:
                self.rows = [
                    {k: (int(v) if k == "step" else float(v)) for k, v in row.items()}
                    for row in csv.DictReader(f)
                    if int(row["step"]) <= step
                ]
        self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as f:
            if self.rows:
                writer = csv.DictWriter(f, fieldnames=list(self.rows[0]))
                writer.writeheader()
                writer.writerows(self.rows)
        os.replace(tmp, self.path)

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


def all_finite(values: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in values.values())
