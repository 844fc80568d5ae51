import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real dataset subsets beside the checkout (``GAN_REPRO_SHARED_DATA`` overrides)."""
    path = Path(os.environ.get("GAN_REPRO_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"real data subsets not found at {path}; set GAN_REPRO_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def shared_data_or_none() -> Path | None:
    """Like ``shared_data``, but ``None`` instead of a skip (for tests with a bundled fallback)."""
    path = Path(os.environ.get("GAN_REPRO_SHARED_DATA", REPO.parent / "shared" / "data"))
    return path if path.is_dir() else None


def run_notebook(name: str, run_dir: Path, timeout: int = 600) -> tuple[str, list[dict]]:
    """Execute ``notebooks/<name>`` on the results folder ``run_dir`` (``GAN_REPRO_RUN``);
    return the text of every output and the outputs themselves."""
    import nbformat
    from nbclient import NotebookClient

    path = REPO / "notebooks" / name
    nb = nbformat.read(path, as_version=4)
    os.environ["GAN_REPRO_RUN"] = str(run_dir)
    try:
        where = {"metadata": {"path": str(path.parent)}}
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=where).execute()
    finally:
        os.environ.pop("GAN_REPRO_RUN", None)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    return text, outputs


def gan_repro_cli(*args: str, env: dict | None = None, timeout: int = 300):
    """``python -m gan_repro.cli ARGS`` in a fresh process from the checkout (``env``: the whole
    environment, default this one), with the checkout on its ``PYTHONPATH``."""
    import subprocess
    import sys

    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "gan_repro.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
