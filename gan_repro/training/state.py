"""Checkpointed run state: models, optimizer slots, step and the Keras RNG states.

Data position and noise are not stored separately: every random draw of a training step
(real-batch indices, z, the gradient-penalty mix) is a pure function of ``(seed, step)``
(``gan_repro.data.pipeline``), so the step counter *is* the data position. The only stateful
randomness left, dropout, lives in Keras ``SeedGenerator`` variables, which are model variables
and so are saved with the model. TensorFlow writes each checkpoint to temporary files and
renames them, and the ``checkpoint`` index file is replaced atomically: a run killed mid-save
keeps its previous checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf


def _tf_variables(variables):
    """The backing ``tf.Variable`` of each Keras variable, in the model's (deterministic) order.

    Checkpointing the list, not the Keras object graph, keeps the names independent of Keras'
    global layer-name counters and includes the dropout ``SeedGenerator`` states, which the
    object graph leaves out.
    """
    return [v.value if isinstance(v, keras.Variable) else v for v in variables]


def checkpoint_step(path: str) -> int:
    """The step a checkpoint holds, from its path (``.../ckpt-<step>``)."""
    return int(path.rsplit("-", 1)[1])


def kept_steps(run_dir) -> list[int]:
    """The steps of the checkpoints kept in a run folder, oldest first (no model is built)."""
    state = tf.train.get_checkpoint_state(str(Path(run_dir) / "checkpoints"))
    paths = list(state.all_model_checkpoint_paths) if state else []
    return sorted(map(checkpoint_step, paths))


def finished_step(directory: Path) -> int:
    """The step of the newest checkpoint in ``directory`` without building any model (0 if none)."""
    latest = tf.train.latest_checkpoint(str(directory))
    return checkpoint_step(latest) if latest else 0


class RunState:
    """Everything that must survive a restart, behind one ``tf.train.CheckpointManager``."""

    def __init__(
        self,
        directory: Path,
        models: dict,
        optimizers: dict,
        keep: int = 3,
        extra: dict[str, list] | None = None,
    ):
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        objects = {"step": self.step}
        for name, variables in (extra or {}).items():  # e.g. CycleGAN's image pools
            objects[f"state_{name}"] = _tf_variables(variables)
        for name, model in models.items():
            objects[f"model_{name}"] = _tf_variables(model.variables)
        for name, opt in optimizers.items():
            objects[f"optimizer_{name}"] = _tf_variables(opt.variables)
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(directory), max_to_keep=keep, checkpoint_name="ckpt"
        )

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint

    def restore(self, step: int) -> int:
        """Restore the kept checkpoint of ``step`` (e.g. a figure of the models at 200
        iterations); a step whose checkpoint was not kept is refused, listing the kept ones."""
        kept = {checkpoint_step(p): p for p in self.manager.checkpoints}
        path = kept.get(int(step))
        if path is None:
            from gan_repro.errors import BadOptionError

            raise BadOptionError(
                f"no checkpoint of step {step} is kept in {self.manager.directory} (kept: "
                f"{list(kept)}); raise trainer.keep_checkpoints or checkpoint at that step"
            )
        self.checkpoint.restore(path).assert_existing_objects_matched().expect_partial()
        return int(self.step.numpy())

    def restore_latest(self) -> int:
        """Restore the newest checkpoint if there is one; return the step it holds (0 if none).

        A state built with only some of the run's models (e.g. the generators, to evaluate)
        restores those and ignores the rest of the checkpoint."""
        if self.latest is None:
            return 0
        status = self.checkpoint.restore(self.latest)
        status.assert_existing_objects_matched().expect_partial()
        return int(self.step.numpy())

    def save(self, step: int) -> str:
        self.step.assign(step)
        return self.manager.save(checkpoint_number=step)


def restore_trained(run_dir, models: dict, step: int | None = None) -> int:
    """Restore ``models`` (e.g. a run's generators, for metrics and notebooks) from the newest
    checkpoint of the run folder ``run_dir`` (or the kept one of ``step``); return its step. A
    folder without a checkpoint is refused with the fix."""
    from gan_repro.errors import BadOptionError

    state = RunState(Path(run_dir) / "checkpoints", models, {})
    if step is not None:
        return state.restore(step)
    step = state.restore_latest()
    if step == 0:
        raise BadOptionError(f"{run_dir} has no checkpoint yet: train it first")
    return step
