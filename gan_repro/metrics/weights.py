"""Where converted pretrained weights live, and the one-off conversion from the official release.

LPIPS weights file format (``lpips_<net>_v0.1.npz``): an uncompressed ``.npz``. Each array is
float32 and keyed by its name in ``lpips.LPIPS(net=<net>, version="0.1").state_dict()``:

* ``net.slice<s>.<i>.weight`` [O, I, kH, kW] (torch OIHW) and ``net.slice<s>.<i>.bias`` [O],
  the torchvision ``features[i]`` conv layers.
  AlexNet: i in {0, 3, 6, 8, 10}. VGG16: i in {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28}.
* ``lin<k>.model.1.weight`` [1, C_k, 1, 1], k = 0..4, the v0.1 linear heads (1x1 conv, no bias).
* ``scaling_layer.shift`` and ``scaling_layer.scale`` [1, 3, 1, 1], kept for checking only.

The torch duplicates ``lins.<k>.model.1.weight`` are left out.
:meth:`gan_repro.metrics.lpips.LPIPS.load_state` reads this layout.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from gan_repro.errors import BadOptionError, WeightsMissingError, check_choice

LPIPS_NETS = ("alex", "vgg")
LPIPS_VERSION = "0.1"


def cache_dir() -> Path:
    """``$GAN_REPRO_CACHE`` if set, else ``~/.keras/gan_repro``. The directory is not created."""
    env = os.environ.get("GAN_REPRO_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".keras" / "gan_repro"


def lpips_weights_path(net: str = "alex") -> Path:
    """The converted LPIPS v0.1 weights for ``net`` in the cache: ``lpips_<net>_v0.1.npz``."""
    check_choice("net", net, LPIPS_NETS)
    return cache_dir() / f"lpips_{net}_v{LPIPS_VERSION}.npz"


def lpips_state_from_torch(state_dict) -> dict[str, np.ndarray]:
    """A torch ``lpips.LPIPS`` state dict -> float32 numpy arrays in the file layout above."""
    out = {}
    for key, value in state_dict.items():
        if key.startswith("lins."):  # the same tensors as lin0..lin4
            continue
        out[key] = value.detach().cpu().numpy().astype(np.float32)
    return out


def save_npz_atomic(arrays: dict[str, np.ndarray], out: str | Path) -> Path:
    """Write ``arrays`` to ``out`` via a temporary file in the same folder and ``os.replace``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def convert_official_lpips(net: str = "alex", out: str | Path | None = None) -> Path:
    """Dump the official ``lpips.LPIPS(net=net, version="0.1")`` weights to an ``.npz``.

    Needs torch, torchvision and ``lpips`` (``pip install torch torchvision lpips``). It also
    needs internet the first time: torchvision downloads the ImageNet backbone into its own
    cache. The v0.1 linear heads come inside the ``lpips`` package. ``out`` defaults to
    :func:`lpips_weights_path`. Returns the path written.
    """
    check_choice("net", net, LPIPS_NETS)
    out = Path(out) if out is not None else lpips_weights_path(net)
    try:
        import lpips
        import torch
    except ImportError as e:
        raise BadOptionError(
            f"converting the LPIPS weights needs torch and the official lpips package ({e}); "
            "install them with `pip install torch torchvision lpips`, on a machine with internet "
            "(torchvision downloads the backbone), or pass an existing file with weights=PATH"
        ) from e
    try:
        model = lpips.LPIPS(net=net, version=LPIPS_VERSION, pretrained=True, verbose=False)
    except Exception as e:  # torchvision's download (URLError, HTTPError, hash mismatch, ...)
        raise WeightsMissingError(
            f"could not build lpips.LPIPS(net={net!r}, version='0.1') with its pretrained "
            f"backbone: {type(e).__name__}: {e}. torchvision downloads the ImageNet {net} "
            f"weights on first use, so this needs internet (or torchvision's cache, "
            f"{torch.hub.get_dir()}, already filled)"
        ) from e
    return save_npz_atomic(lpips_state_from_torch(model.state_dict()), out)


def main_weights(argv: list[str] | None = None) -> int:
    """``gan-repro weights lpips [--net alex|vgg] [--out PATH]``. ``argv`` excludes ``weights``."""
    parser = argparse.ArgumentParser(
        prog="gan-repro weights",
        description="Convert pretrained weights from their official release into the cache.",
    )
    parser.add_argument("what", choices=["lpips"], help="which weights to convert")
    parser.add_argument("--net", default="alex", choices=list(LPIPS_NETS))
    parser.add_argument("--out", default=None, help="output .npz (default: the user cache)")
    args = parser.parse_args(argv)
    path = convert_official_lpips(args.net, args.out)
    print(f"wrote LPIPS v{LPIPS_VERSION} ({args.net}) weights to {path}")
    return 0
