"""The command line answers at once: ``--help`` and ``list`` import no TensorFlow, and ``list``
and ``models`` print no TensorFlow/CUDA/absl log lines unless ``--verbose`` is given."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gan_repro import cli

REPO = Path(__file__).resolve().parents[1]
#: What TensorFlow's C++ core, CUDA and absl write (besides the suite's own patterns).
TF_NOISE = re.compile(
    r"^\d{4}-\d\d-\d\d .*[IWE]\d{4}|^[IWEF]\d{4} |oneDNN|cuda|absl|tensorflow", re.I | re.M
)


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as in a shell
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**env, "PYTHONPATH": path, **extra}


def _python(code: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _gan_repro(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    from conftest import gan_repro_cli

    return gan_repro_cli(*args, env=_env(), timeout=timeout)


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "--verbose"], ["sweep", "-h"]])
def test_help_and_list_do_not_import_tensorflow(argv):
    done = _python(
        "import sys\n"
        "from gan_repro.cli import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "print('EXIT', code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "EXIT 0 False False", done.stdout[-2000:]
    shown = {"--help": ["sweep", "--verbose"], "sweep": ["--backend", "--workers", "--retries"]}
    for word in shown.get(argv[0], []):
        assert word in done.stdout


def test_list_prints_every_experiment_and_nothing_on_stderr():
    done = _gan_repro("list")
    assert done.returncode == 0, done.stderr
    assert "scogan/toy-ring  (scogan-toy-ring)" in done.stdout
    assert done.stderr == ""


@pytest.mark.slow
def test_models_prints_no_tensorflow_log_lines():
    done = _gan_repro("models")
    assert done.returncode == 0, done.stderr
    assert "toy_ring_generator" in done.stdout
    assert not TF_NOISE.search(done.stderr), done.stderr
    assert done.stderr == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_is_accepted_anywhere_and_keeps_the_old_log_level(where):
    argv = ["--verbose", "list"] if where == "before" else ["list", "--verbose"]
    done = _python(
        "import os\n"
        "from gan_repro.cli import main\n"
        f"code = main({argv!r})\n"
        "print('LEVEL', code, os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LEVEL 0 2"
    quiet = _python(
        "import os\nfrom gan_repro.cli import main\nmain(['list'])\n"
        "print('LEVEL', os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
    )
    assert quiet.stdout.splitlines()[-1] == "LEVEL 3"


def test_filtered_stderr_drops_tensorflow_lines_and_keeps_the_rest(capfd):
    with cli.filtered_stderr():
        for line in (
            "WARNING: All log messages before absl::InitializeLog() is called are written to "
            "STDERR",
            "I0000 00:00:1796215996.439723    5464 port.cc:153] oneDNN custom operations are on.",
            "2024-01-01 10:00:00.123456: W tensorflow/core/util/port.cc:113] something",
            "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
            "TensorFlow with the appropriate compiler flags.",
            "a real problem the user must see",
        ):
            os.write(2, (line + "\n").encode())
    assert capfd.readouterr().err == "a real problem the user must see\n"
    with pytest.raises(RuntimeError), cli.filtered_stderr():  # on an error: everything
        os.write(2, b"I0000 00:00:1.2 1 port.cc:1] kept\n")
        raise RuntimeError
    assert "kept" in capfd.readouterr().err


def test_the_module_docstring_lists_every_command():
    for command in ("list", "train", "sweep", "show", "models", "evaluate", "report", "bench"):
        assert f"gan-repro {command}" in cli.__doc__


def test_sweep_passes_its_options_and_the_overrides(monkeypatch):
    import gan_repro.sweep

    calls = []
    monkeypatch.setattr(gan_repro.sweep, "sweep", lambda *a, **k: calls.append((a, k)))
    argv = ["sweep", "scogan/toy-ring", "scale=smoke", "--workers", "3", "runs=NS-k1"]
    assert cli.main([*argv, "--verbose", "--backend", "ray", "--retries", "0"]) == 0
    assert calls == [
        (
            ("scogan/toy-ring", ["scale=smoke", "runs=NS-k1"]),
            {"backend": "ray", "workers": 3, "retries": 0, "address": None, "verbose": True},
        )
    ]
    assert cli.main(argv) == 0 and calls[-1][1]["verbose"] is False
    assert calls[-1][1]["backend"] == "local" and calls[-1][1]["retries"] == 2
