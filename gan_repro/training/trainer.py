"""The one GradientTape training loop behind every experiment (DESIGN.md "One trainer").

``Trainer(family, run_dir, options)`` takes the run folder's lock (:mod:`.runlock`: one trainer
per folder), builds the family inside a ``tf.distribute`` strategy, restores the newest
checkpoint in ``run_dir/checkpoints`` if there is one, and runs the family's replica step under
``tf.function`` (with XLA on a GPU unless ``jit_compile`` says otherwise) with a progress bar.
It writes ``history.csv``, TensorBoard events under ``tb/``, sample grids under ``samples/``,
checkpoints every ``checkpoint_every`` steps and ``timing.json`` (seconds per step and the
share spent waiting for the input pipeline). A NaN/inf loss stops the run with
:class:`TrainingDivergedError` and leaves the last good checkpoint untouched; Ctrl-C finishes
the step in flight, saves a checkpoint there and exits, so that nothing is lost; a run killed
outright (SIGKILL) resumes from its last checkpoint to exactly the uninterrupted history.

``deterministic=True`` makes two runs of one declaration and seed on one machine bitwise equal
(:func:`deterministic_runtime` says how and why).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import keras
import tensorflow as tf
from tqdm.auto import tqdm

from gan_repro.config import PRECISIONS, TrainerOptions  # noqa: F401  (re-exported)
from gan_repro.errors import BadOptionError, TrainingDivergedError, check_choice
from gan_repro.io import write_json
from gan_repro.training.family import Family
from gan_repro.training.history import History, all_finite
from gan_repro.training.runlock import RunLock
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


def _onednn_on() -> bool:
    """Whether TensorFlow runs its oneDNN kernels (``TF_ENABLE_ONEDNN_OPTS`` when imported)."""
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") not in ("0", "false", "False")


@contextlib.contextmanager
def deterministic_runtime(enabled: bool):
    """TensorFlow set up so that a step gives the same bits on every run on one machine;
    process-wide settings, restored on exit. Yields what it turned on (for ``config.json``).

    Why (measured on the face-aging CGAN, CPU): the same step from the same weights and batch
    gave other bits in about half of the calls, although its forward pass and each of its
    gradients alone do not vary. It varies only in the graph Grappler's constant folding made
    of the whole step, and only while its ops run concurrently (one inter-op and one intra-op
    thread hide it; one inter-op thread alone makes it rarer). oneDNN, op determinism and
    intra-op threads do not change it; with constant folding off, 79 of 79 repeats and two
    120-step runs were identical at the default threads. So, for the functions run inside:

    * Grappler's constant folding is off (XLA steps never run that graph: already stable);
    * ``enable_op_determinism()`` is on: deterministic kernels where TF has them (GPU
      reductions, scatters, cuDNN) and an error naming any op without one, and every
      ``tf.data`` pipeline deterministic.

    Thread counts and oneDNN (fixed once TensorFlow has started) are left alone: not needed.
    """
    if not enabled:
        yield {"enabled": False}
        return
    from tensorflow.python.framework import config as tf_config  # is_/disable_: not public

    was_deterministic = tf_config.is_op_determinism_enabled()
    grappler = tf.config.optimizer.get_experimental_options()
    tf.config.experimental.enable_op_determinism()
    tf.config.optimizer.set_experimental_options({"constant_folding": False})
    try:
        yield {
            "enabled": True,
            "op_determinism": True,
            "grappler_constant_folding": False,
            "tf_data_deterministic": True,
            "jit_compile_auto": "tf.function",
            "onednn": _onednn_on(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads() or "auto",
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "auto",
        }
    finally:
        tf.config.optimizer.set_experimental_options(
            {"constant_folding": grappler.get("constant_folding", True)}
        )
        if not was_deterministic:
            tf_config.disable_op_determinism()


def train_devices(strategy: tf.distribute.Strategy) -> dict:
    """What a strategy trains on: its devices, the machine's GPUs by name and its CPU count."""
    gpus = tf.config.list_physical_devices("GPU")
    names = []
    for gpu in gpus:
        try:
            names.append(tf.config.experimental.get_device_details(gpu).get("device_name"))
        except (ValueError, RuntimeError):
            names.append(None)
    try:
        devices = list(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: TensorFlow's default device
        devices = ["/device:GPU:0" if tf.config.list_logical_devices("GPU") else "/device:CPU:0"]
    return {
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "devices": devices,
        "gpus": [n or g.name for n, g in zip(names, gpus, strict=True)],
        "cpu_count": os.cpu_count(),
    }


def resolve_jit_compile(option: bool | None, deterministic: bool, devices: dict) -> bool:
    """``jit_compile`` as set, or for ``None`` (auto): XLA when the step runs on a GPU, plain
    ``tf.function`` on a CPU (XLA's CPU convolutions are slower at batch 128 and for the
    CycleGANs, benchmarks/RESULTS.md), and plain ``tf.function`` everywhere under
    ``deterministic`` (one fixed mode, the one TensorFlow's op determinism covers)."""
    if option is not None:
        return bool(option)
    if deterministic:
        return False
    return any("GPU" in d.upper() for d in devices["devices"])


class Trainer:
    """Trains ``family`` into ``run_dir``; see the module docstring.

    The run folder's lock is taken first, before anything is written, and held until
    :meth:`fit` returns (or raises); :meth:`close` (or ``with Trainer(...)``) releases it for a
    trainer that is never fitted. A caller that already holds the folder's :class:`RunLock`
    (the runner, which writes ``config.json`` too) passes it as ``lock`` and keeps it.
    """

    def __init__(
        self,
        family: Family,
        run_dir: str | Path,
        options: TrainerOptions,
        strategy: tf.distribute.Strategy | None = None,
        lock: RunLock | None = None,
    ):
        self.family = family
        self.options = options
        self.run_dir = Path(run_dir)
        if lock is not None and not (
            lock.held and lock.run_dir.resolve() == self.run_dir.resolve()
        ):
            raise BadOptionError(
                f"the lock passed to the trainer of {self.run_dir} is not held on that folder "
                f"({lock.run_dir}, held: {lock.held}): pass RunLock(run_dir).acquire()"
            )
        self._own_lock = lock is None
        self.lock = lock or RunLock(self.run_dir).acquire()
        try:
            self.strategy = strategy or tf.distribute.get_strategy()
            self.devices = train_devices(self.strategy)
            self.jit_compile = resolve_jit_compile(
                options.jit_compile, options.deterministic, self.devices
            )
            for sub in ("checkpoints", "samples", "tb"):
                (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
            with deterministic_runtime(options.deterministic) as self.determinism:
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
        except BaseException:
            self.close()
            raise
        self._step_fn = None

    # -- what the run trains on ------------------------------------------------------------
    @property
    def compile_mode(self) -> str:
        return "xla" if self.jit_compile else "tf.function"

    def run_record(self) -> dict:
        """The resolved setup, for ``config.json``: devices, compile mode, precision and what
        ``deterministic`` turned on."""
        return {
            "devices": self.devices,
            "compile": self.compile_mode,
            "jit_compile": self.jit_compile,
            "precision": self.options.precision,
            "deterministic": self.determinism,
        }

    def describe(self) -> str:
        """One line: where and how the run trains."""
        d = self.devices
        gpus = ", ".join(d["gpus"]) if d["gpus"] else "no GPU"
        return (
            f"[{self.run_dir.name}] training on {', '.join(d['devices'])} "
            f"({d['replicas']} replica{'s' if d['replicas'] > 1 else ''}; {gpus}; "
            f"{d['cpu_count']} CPUs), {self.compile_mode}, {self.options.precision}"
            + (", deterministic" if self.options.deterministic else "")
        )

    # -- the run folder's lock -------------------------------------------------------------
    def close(self) -> None:
        """Release the run folder's lock if this trainer took it."""
        if self._own_lock:
            self.lock.release()

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _locked(self):
        if self._own_lock:
            self.lock.acquire()  # again, for a second fit
        elif not self.lock.held:
            raise BadOptionError(f"the lock of {self.run_dir} was released before fit()")
        try:
            yield
        finally:
            self.close()

    # -- training --------------------------------------------------------------------------
    def _compiled_step(self):
        if self._step_fn is None:
            replicas = self.strategy.num_replicas_in_sync

            def distributed(batch):
                per_replica = self.strategy.run(self.family.train_step, args=(batch, replicas))
                return {
                    k: self.strategy.reduce("MEAN", v, axis=None) for k, v in per_replica.items()
                }

            self._step_fn = tf.function(distributed, jit_compile=self.jit_compile)
        return self._step_fn

    def _dataset(self, start: int):
        data = self.family.dataset(start)
        if self.options.deterministic:
            opts = tf.data.Options()
            opts.deterministic = True
            data = data.with_options(opts)
        return self.strategy.experimental_distribute_dataset(data)

    def fit(self) -> History:
        """Train from the newest checkpoint (or from scratch) up to ``options.steps``."""
        with self._locked(), deterministic_runtime(self.options.deterministic):
            return self._fit()

    def _fit(self) -> History:
        opts = self.options
        start = self.state.restore_latest()
        self.history.resume_at(start)
        if start >= opts.steps:
            return self.history
        print(self.describe(), flush=True)
        clock = _LoopClock(start)
        data = clock.waiting(lambda: iter(self._dataset(start)))
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
        interrupt.guard()
        try:
            while step < opts.steps:
                batch = clock.waiting(lambda: next(data, None))
                if batch is None:
                    break
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
                clock.stepped(step)
                if step < opts.steps and interrupt.requested:
                    self.state.save(step)
                    bar.write(f"interrupted: checkpoint saved at step {step}; rerun to resume")
                    raise KeyboardInterrupt
        finally:
            interrupt.restore()
            bar.close()
            self.history.flush()
            clock.write(self.run_dir / "timing.json")
        return self.history


class _LoopClock:
    """Seconds of the training loop and the part spent waiting for the input pipeline (the
    next batch): where a slow loader shows. Nothing here waits for the device, so the step
    stays asynchronous; on a GPU the wait for the next batch overlaps the step in flight."""

    def __init__(self, start_step: int):
        self.start_step = self.last_step = start_step
        self.t0 = time.perf_counter()
        self.wait = 0.0
        self.first = None  # seconds to the end of the first step (tracing, compiling)

    def waiting(self, fn):
        t = time.perf_counter()
        try:
            return fn()
        finally:
            self.wait += time.perf_counter() - t

    def stepped(self, step: int) -> None:
        self.last_step = step
        if self.first is None:
            self.first = time.perf_counter() - self.t0

    def write(self, path: Path) -> None:
        steps = self.last_step - self.start_step
        if steps == 0:
            return
        seconds = time.perf_counter() - self.t0
        after = (seconds - self.first) / (steps - 1) if steps > 1 else None
        write_json(
            path,
            {
                "steps": steps,
                "first_step": self.start_step + 1,
                "last_step": self.last_step,
                "seconds": seconds,
                "input_wait_seconds": self.wait,
                "input_wait_share": self.wait / seconds if seconds > 0 else 0.0,
                "seconds_per_step": seconds / steps,
                "first_step_seconds": self.first,
                "seconds_per_step_after_first": after,
                "note": "wall-clock seconds of this session's loop (logging, samples and "
                "checkpoints included); input wait: blocked on the input pipeline (making its "
                "iterator, then each next batch)",
            },
        )


class _DeferredInterrupt:
    """Turn Ctrl-C into a flag checked between steps, so a checkpoint is never written
    half-way through an update (the step counter and the weights always agree)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def guard(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

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
