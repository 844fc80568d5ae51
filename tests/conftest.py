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
