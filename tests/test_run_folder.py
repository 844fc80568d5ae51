"""The run folder: one trainer at a time (the lock), exact resume after a SIGKILL under
``deterministic``, the devices and compile mode recorded, and ``timing.json``."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import config as tf_config

from gan_repro.data.ring import ring_points
from gan_repro.errors import GanReproError, TrainingDivergedError
from gan_repro.training import ToyGAN, ToyGANConfig
from gan_repro.training.history import History, read_rows
from gan_repro.training.runlock import RunFolderLockedError, RunLock, read_holder
from gan_repro.training.trainer import Trainer, TrainerOptions, resolve_jit_compile

REPO = Path(__file__).resolve().parents[1]
RUNLOCK = REPO / "gan_repro" / "training" / "runlock.py"

# a process that takes the lock and waits: runlock.py loaded alone (it needs no TensorFlow),
# so the holder starts in a fraction of a second
_HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("runlock", {path!r})
runlock = importlib.util.module_from_spec(spec); spec.loader.exec_module(runlock)
lock = runlock.RunLock({run_dir!r}).acquire()
print("HELD", flush=True)
time.sleep(120)
"""


def toy_family(seed=5):
    cfg = ToyGANConfig(batch_size=16, sample_points=64)
    return ToyGAN.from_inputs(cfg, {"points": ring_points(200, seed=seed)}, seed=seed)


def options(steps, **kw):
    kw = {"log_every": 1, "checkpoint_every": 2, "sample_every": 100, "progress": False, **kw}
    return TrainerOptions(steps=steps, **kw)


@pytest.fixture
def holder(tmp_path):
    """Start a process holding the lock of ``tmp_path/NS-k1`` (a toy-ring run's folder);
    yields ``(process, run_dir)``."""
    run_dir = tmp_path / "NS-k1"
    script = _HOLDER.format(path=str(RUNLOCK), run_dir=str(run_dir))
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "HELD"
        yield proc, run_dir
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


# -- the lock ---------------------------------------------------------------------------------
def test_a_second_process_is_refused_with_the_holder_named(holder):
    proc, run_dir = holder
    with pytest.raises(RunFolderLockedError) as err:
        Trainer(toy_family(), run_dir, options(2))
    message = str(err.value)
    assert isinstance(err.value, GanReproError)
    assert f"pid {proc.pid}" in message and socket.gethostname() in message
    assert "since 20" in message and "out=" in message  # when, and the fix
    # refused before writing anything: the holder's folder holds only its lock
    assert [p.name for p in run_dir.iterdir()] == [".lock"]


def test_a_lock_left_by_a_killed_process_does_not_block(holder):
    proc, run_dir = holder
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert read_holder(run_dir / ".lock")["pid"] == proc.pid  # the dead holder's file stays
    history = Trainer(toy_family(), run_dir, options(2)).fit()
    assert [r["step"] for r in history.rows] == [1, 2]
    assert not (run_dir / ".lock").exists()  # released (and removed) when fit returns


def test_a_second_trainer_in_the_same_process_is_refused(tmp_path):
    first = Trainer(toy_family(), tmp_path, options(2))
    with pytest.raises(RunFolderLockedError, match="another trainer in this process"):
        Trainer(toy_family(), tmp_path, options(2))
    first.fit()  # releases the lock: the folder can be resumed
    assert [r["step"] for r in Trainer(toy_family(), tmp_path, options(3)).fit().rows] == [
        1,
        2,
        3,
    ]


class _Interrupted(ToyGAN):
    def save_samples(self, path, step):
        raise KeyboardInterrupt


class _Diverging(ToyGAN):
    def train_step(self, batch, num_replicas):
        return {k: v * np.nan for k, v in super().train_step(batch, num_replicas).items()}


@pytest.mark.parametrize(
    "family, error", [(_Interrupted, KeyboardInterrupt), (_Diverging, TrainingDivergedError)]
)
def test_the_lock_is_released_on_errors_and_ctrl_c(tmp_path, family, error):
    cfg = ToyGANConfig(batch_size=16, sample_points=64)
    with pytest.raises(error):
        Trainer(family(cfg, ring_points(200), seed=1), tmp_path, options(3, sample_every=1)).fit()
    assert not (tmp_path / ".lock").exists()
    RunLock(tmp_path).acquire().release()


def test_the_runner_takes_the_lock_before_writing_config_json(holder):
    from gan_repro.runner import Context, prepare, train_run

    _, run_dir = holder
    s = prepare("scogan/toy-ring", ["scale=smoke", "runs=NS-k1"])
    cfg = s.configs[0]
    ctx = Context(s.declaration, "smoke", run_dir.parent, progress=False, configs={"NS-k1": cfg})
    with pytest.raises(RunFolderLockedError):
        train_run(ctx, cfg)
    assert [p.name for p in run_dir.iterdir()] == [".lock"]  # no config.json written


# -- devices, compile mode, timing ------------------------------------------------------------
def test_jit_compile_auto_is_chosen_per_device():
    gpu = {"devices": ["/job:localhost/replica:0/task:0/device:GPU:0"]}
    cpu = {"devices": ["/device:CPU:0"]}
    assert resolve_jit_compile(None, False, gpu) is True
    assert resolve_jit_compile(None, False, cpu) is False
    assert resolve_jit_compile(None, True, gpu) is False  # deterministic: one fixed mode
    assert resolve_jit_compile(True, False, cpu) is True  # an explicit choice is kept
    assert resolve_jit_compile(False, True, gpu) is False


def test_a_run_records_its_devices_and_warns_at_paper_scale_without_gpu(tmp_path, capfd):
    from gan_repro.runner import Context, prepare, train_run

    s = prepare(
        "scogan/toy-ring",
        ["scale=paper", "runs=NS-k1", f"out={tmp_path}", "trainer.steps=3", "trainer.log_every=1"],
    )
    cfg = s.configs[0]
    ctx = Context(s.declaration, "paper", s.out, progress=False, configs={cfg.run: cfg})
    train_run(ctx, cfg)
    out, err = capfd.readouterr()
    record = json.loads((s.out / "NS-k1" / "config.json").read_text())
    run = record["run"]
    assert run["devices"]["cpu_count"] == os.cpu_count()
    assert run["devices"]["devices"] and run["devices"]["replicas"] == 1
    assert run["precision"] == "float32" and run["deterministic"] == {"enabled": False}
    assert record["trainer"]["jit_compile"] is None  # auto, as declared ...
    if tf.config.list_physical_devices("GPU"):
        assert run["compile"] == "xla" and "WARNING" not in err
    else:  # ... resolved per device: plain tf.function on a CPU, and a warning at paper scale
        assert run["compile"] == "tf.function" and run["devices"]["gpus"] == []
        assert "paper scale but no GPU" in err and 'pip install -e ".[gpu]"' in err
    line = next(ln for ln in out.splitlines() if ln.startswith("[NS-k1] training on"))
    assert run["compile"] in line and "CPUs" in line
    timing = json.loads((s.out / "NS-k1" / "timing.json").read_text())
    assert timing["steps"] == 3 and timing["last_step"] == 3
    assert 0 < timing["input_wait_seconds"] < timing["seconds"]
    assert 0 < timing["input_wait_share"] < 1
    assert timing["seconds_per_step"] == pytest.approx(timing["seconds"] / 3)


def test_deterministic_restores_the_process_settings(tmp_path):
    trainer = Trainer(toy_family(), tmp_path, options(2, deterministic=True))
    assert trainer.run_record()["deterministic"]["grappler_constant_folding"] is False
    trainer.fit()
    assert not tf_config.is_op_determinism_enabled()
    assert tf.config.optimizer.get_experimental_options().get("constant_folding", True)


# -- history written to survive a kill --------------------------------------------------------
def test_resume_drops_a_half_written_line_and_rows_after_the_checkpoint(tmp_path):
    path = tmp_path / "history.csv"
    history = History(path)
    for step in range(1, 6):
        history.append(step, {"d": 1.0 / 3.0 * step, "g": np.float32(0.1) * step})
    whole = path.read_bytes()
    first_three = whole[: whole.index(b"\r\n4,") + 2]
    with path.open("ab") as f:
        f.write(b"6,0.12")  # killed mid-row
    assert [r["step"] for r in read_rows(path)] == [1, 2, 3, 4, 5]
    History(path).resume_at(3)
    assert path.read_bytes() == first_three
    resumed = History(path)
    resumed.resume_at(3)
    for step in (4, 5):
        resumed.append(step, {"d": 1.0 / 3.0 * step, "g": np.float32(0.1) * step})
    assert path.read_bytes() == whole


def test_resume_after_a_kill_mid_save_and_mid_row_gives_the_uninterrupted_history(tmp_path):
    """What a SIGKILL can leave: rows logged after the last checkpoint, a last row without its
    newline, and the files of a checkpoint that was being written (TensorFlow records a
    checkpoint in ``checkpoints/checkpoint`` only once its files are complete)."""
    whole = tmp_path / "whole"
    Trainer(toy_family(), whole, options(6, deterministic=True)).fit()
    cut = tmp_path / "cut"
    Trainer(toy_family(), cut, options(5, deterministic=True)).fit()  # ckpt-2, -4 and -5
    ckpt = cut / "checkpoints"
    (ckpt / "ckpt-5.index").unlink()  # back to "ckpt-5 was being written when the kill came"
    (ckpt / "ckpt-5.data-00000-of-00001").write_bytes(b"\0" * 100)
    (ckpt / "ckpt-6_temp").mkdir()
    (ckpt / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-4"\n'
        'all_model_checkpoint_paths: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-4"\n'
    )
    with (cut / "history.csv").open("ab") as f:
        f.write(b"6,0.6931")  # killed mid-row, after the row of step 5 (beyond ckpt-4)
    assert [r["step"] for r in read_rows(cut / "history.csv")] == [1, 2, 3, 4, 5]
    Trainer(toy_family(), cut, options(6, deterministic=True)).fit()
    assert (cut / "history.csv").read_bytes() == (whole / "history.csv").read_bytes()


# -- SIGKILL and resume, deterministic --------------------------------------------------------
_TRAIN = """
import sys
from gan_repro.runner import Context, prepare, train_run
out, data_dir, steps = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
s = prepare("face_aging/utkface", ["scale=smoke", "runs=cgan-z100", f"out={out}",
    f"trainer.steps={steps}", "trainer.log_every=1", "trainer.checkpoint_every=10",
    "trainer.keep_checkpoints=1", "trainer.sample_every=1000", "trainer.deterministic=true"])
cfg = s.configs[0]
ctx = Context(s.declaration, "smoke", s.out, data_dir=data_dir, progress=False,
              configs={cfg.run: cfg})
train_run(ctx, cfg)
"""
STEPS = 30
RUN = Path("face-aging") / "smoke" / "cgan-z100"


def _train(out: Path, data_dir, hash_seed: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}  # set iteration order may differ
    return subprocess.Popen(
        [sys.executable, "-c", _TRAIN, str(out), str(data_dir or ""), str(STEPS)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rows(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except FileNotFoundError:
        return 0


def _kill_when_logged(proc: subprocess.Popen, history: Path, step: int) -> None:
    """SIGKILL ``proc`` as soon as ``history`` holds the row of ``step``."""
    deadline = time.monotonic() + 300
    while _rows(history) < step and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err[-3000:]
    assert (history.parent / ".lock").exists()  # the killed trainer's lock file is left
    assert _rows(history) < STEPS


@pytest.mark.slow
def test_a_run_killed_at_a_random_step_resumes_to_the_same_bytes(tmp_path, shared_data_or_none):
    """The face-aging CGAN (smoke scale, real faces) differs between two plain runs from the
    second step on. Under ``deterministic`` a run SIGKILLed at a random step after its first
    checkpoint and resumed (in processes with other hash seeds) writes the uninterrupted run's
    history.csv byte for byte, and the same final sample grid (the same weights)."""
    data_dir = shared_data_or_none
    kill_at = int(np.random.default_rng(2020).integers(11, STEPS - 2))  # after ckpt-10
    a = _train(tmp_path / "a", data_dir, hash_seed=1)
    b = _train(tmp_path / "b", data_dir, hash_seed=2)
    _kill_when_logged(b, tmp_path / "b" / RUN / "history.csv", kill_at)
    b = _train(tmp_path / "b", data_dir, hash_seed=3)
    for proc in (a, b):
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    run_a, run_b = tmp_path / "a" / RUN, tmp_path / "b" / RUN
    assert _rows(run_a / "history.csv") == STEPS
    assert (run_b / "history.csv").read_bytes() == (run_a / "history.csv").read_bytes()
    assert (run_b / "grid.png").read_bytes() == (run_a / "grid.png").read_bytes()
    record = json.loads((run_b / "config.json").read_text())
    assert record["run"]["deterministic"]["enabled"] is True
    assert record["run"]["compile"] == "tf.function"
