"""Pretrained Keras Applications weights as files: the Keras cache, a given path, or an error.

VGG19 (the SCoGAN perceptual loss) and InceptionV3 (FID/KID) load the same way: the ImageNet
"notop" file from ``$KERAS_HOME/models`` or ``~/.keras/models``, downloaded into the cache on
first use where the machine has internet; a path to that file; or ``None`` for random weights
(tests, offline smoke runs). Anything else stops with a message naming the file and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import keras

from gan_repro.errors import WeightsMissingError


@dataclass(frozen=True)
class KerasWeights:
    """One Keras Applications weights file."""

    what: str  # e.g. "VGG19 ImageNet notop weights (perceptual loss)"
    filename: str
    url: str
    md5: str | None = None


def keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")).expanduser()


def cache_candidates(spec: KerasWeights) -> list[Path]:
    """Where the file may be cached; the first is where a download goes."""
    dirs = [keras_home() / "models", Path("~/.keras/models").expanduser()]
    return [d / spec.filename for d in dict.fromkeys(dirs)]


def is_cached(spec: KerasWeights) -> bool:
    return any(p.is_file() for p in cache_candidates(spec))


def resolve_weights(spec: KerasWeights, weights) -> Path | None:
    """``"imagenet"`` -> the cached (or freshly downloaded) file; a path -> that file;
    ``None`` -> None (random weights). Raises WeightsMissingError naming the cache path and the
    official URL when the file is neither there nor downloadable."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        candidates = cache_candidates(spec)
        for path in candidates:
            if path.is_file():
                return path
        target = candidates[0]
        try:
            got = keras.utils.get_file(
                spec.filename,
                origin=spec.url,
                cache_subdir="models",
                cache_dir=str(target.parent.parent),
                file_hash=spec.md5,
            )
        except Exception as exc:  # no network, proxy, HTTP error, bad hash, read-only disk
            raise WeightsMissingError(
                f"{spec.what} are not cached at {target} and could not be downloaded "
                f"({type(exc).__name__}: {exc}). Download {spec.url} on a machine with internet "
                f"and place it at {target}, or pass the path of the .h5 file as weights=..."
            ) from exc
        return Path(got)
    path = Path(os.fspath(weights)).expanduser()
    if not path.is_file():
        raise WeightsMissingError(
            f"{spec.what}: file {path} does not exist. Use the official file {spec.url}, or "
            "weights='imagenet' for the Keras cache."
        )
    return path


def weights_choice(choice: str, cached: bool, paper: bool, default):
    """Resolve a metric's ``--*-weights`` option: 'auto' is the pretrained file (``default``,
    downloaded at paper scale if need be); at smoke scale only if it is already on disk, else
    random weights (``None``), which the metrics record says loudly. 'random' is ``None``;
    anything else (a path, 'imagenet', 'default') is passed on."""
    if choice == "auto":
        return default if cached or paper else None
    return None if choice == "random" else choice
