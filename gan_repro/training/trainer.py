"""The one GradientTape training loop behind every experiment (DESIGN.md "One trainer").

``Trainer(family, run_dir, steps=...)`` builds the family inside a ``tf.distribute`` strategy,
restores the newest checkpoint in ``run_dir/checkpoints`` if there is one, and runs the
family's replica step under ``tf.function`` (optionally XLA) with a progress bar. It writes
``history.csv``, TensorBoard events under ``tb/``, sample grids under ``samples/`` and
checkpoints every ``checkpoint_every`` steps. A NaN/inf loss stops the run with
:class:`TrainingDivergedError` and leaves the last good checkpoint untouched; Ctrl-C finishes
the step in flight, saves a checkpoint there and exits, so that nothing is lost.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path

import keras
import tensorflow as tf
from tqdm.auto import tqdm

from gan_repro.config import PRECISIONS, TrainerOptions  # noqa: F401  (re-exported)
from gan_repro.errors import TrainingDivergedError, check_choice
from gan_repro.training.family import Family
from gan_repro.training.history import History, all_finite
from gan_repro.training.state import RunState


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under a Keras dtype policy without leaving it set globally."""
    check_choice("precision", name, PRECISIONS)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class Trainer:
    def __init__(
        self,
        family: Family,
        run_dir: str | Path,
        options: TrainerOptions,
        strategy: tf.distribute.Strategy | None = None,
    ):
        self.family = family
        self.options = options
        self.run_dir = Path(run_dir)
        self.strategy = strategy or tf.distribute.get_strategy()
        for sub in ("checkpoints", "samples", "tb"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        keras.utils.set_random_seed(options.seed)
        with self.strategy.scope(), dtype_policy(options.precision):
            family.build()
        self.state = RunState(
            self.run_dir / "checkpoints",
            family.models,
            family.optimizers,
            keep=options.keep_checkpoints,
            extra=family.state_variables(),
        )
        self.history = History(self.run_dir / "history.csv", self.run_dir / "tb")
        self._step_fn = None

    def _compiled_step(self):
        if self._step_fn is None:
            replicas = self.strategy.num_replicas_in_sync

            def distributed(batch):
                per_replica = self.strategy.run(self.family.train_step, args=(batch, replicas))
                return {
                    k: self.strategy.reduce("MEAN", v, axis=None) for k, v in per_replica.items()
                }

            self._step_fn = tf.function(distributed, jit_compile=self.options.jit_compile)
        return self._step_fn

    def fit(self) -> History:
        """Train from the newest checkpoint (or from scratch) up to ``options.steps``."""
        opts = self.options
        start = self.state.restore_latest()
        self.history.resume_at(start)
        if start >= opts.steps:
            return self.history
        data = self.strategy.experimental_distribute_dataset(self.family.dataset(start))
        step_fn = self._compiled_step()
        bar = tqdm(
            total=opts.steps,
            initial=start,
            disable=not opts.progress,
            unit="step",
            dynamic_ncols=True,
            desc=self.run_dir.name,
        )
        step = start
        interrupt = _DeferredInterrupt()
        try:
            for batch in interrupt.guard(data):
                losses = step_fn(batch)
                step += 1
                log = step % opts.log_every == 0 or step == opts.steps
                save = step % opts.checkpoint_every == 0 or step == opts.steps
                if log or save:
                    values = {k: float(v) for k, v in losses.items()}
                    if not all_finite(values):
                        raise TrainingDivergedError(
                            f"non-finite loss at step {step}: {values}. The last good "
                            f"checkpoint is kept: {self.state.latest or 'none yet'}; lower the "
                            "learning rate or check the data, then rerun to resume from it."
                        )
                    self.history.append(step, values)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)
                if step % opts.sample_every == 0 or step == opts.steps:
                    grid = self.family.save_samples(
                        self.run_dir / "samples" / f"step_{step:06d}.png", step
                    )
                    self.history.image("samples", step, grid)
                if save:
                    self.state.save(step)
                bar.update(1)
                if step >= opts.steps:
                    break
                if interrupt.requested:
                    self.state.save(step)
                    bar.write(f"interrupted: checkpoint saved at step {step}; rerun to resume")
                    raise KeyboardInterrupt
        finally:
            interrupt.restore()
            bar.close()
            self.history.flush()
        return self.history


class _DeferredInterrupt:
    """Turn Ctrl-C into a flag checked between steps, so a checkpoint is never written
    half-way through an update (the step counter and the weights always agree)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def guard(self, iterable):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return iterable

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def time_steps(step_fn, batch, n: int) -> float:
    """Seconds per call of ``step_fn(batch)`` over ``n`` calls (after one warm-up call)."""
    out = step_fn(batch)
    _ = {k: float(v) for k, v in out.items()}
    t0 = time.perf_counter()
    for _ in range(n):
        out = step_fn(batch)
    _ = {k: float(v) for k, v in out.items()}
    return (time.perf_counter() - t0) / n
