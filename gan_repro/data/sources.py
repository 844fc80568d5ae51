"""Dataset sources for the digit experiments: MNIST, SVHN and USPS as numpy arrays.

Spec 001 section 4 (L513-604, L1206-1242): the thesis loads MNIST (60,000 train images, 28x28)
and SVHN (``svhn_cropped``, 73,257 train images, 32x32x3) through TensorFlow Datasets; USPS is
used by spec 002 (16x16: ESL ``zip.train``/``zip.test``, or the Kaggle ``usps.h5`` that report
002 used, L160). Each loader takes ``source``:

``"local"``   the official files in a data dir (``data_dir`` argument, else ``$GAN_REPRO_DATA``),
              directly in it or in a ``mnist/``, ``svhn/`` or ``usps/`` subfolder;
``"tfds"``    ``tfds.load`` (downloads on first use when the machine has internet);
``"bundled"`` the small real samples shipped in ``data/samples`` (MNIST test set, USPS);
``"auto"``    local files when the data dir has them, else TFDS. Never the bundled samples:
              a smoke run that wants them asks for them, so a sample is never mistaken for
              the full dataset.

A missing dataset raises :class:`DatasetMissingError` saying what was looked for, where, and how
to get it; a damaged file raises :class:`CorruptDataError` naming the file.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadOptionError, CorruptDataError, DatasetMissingError, check_choice
from .transforms import _grid_to_uint8, mnist2edge_domains

SOURCES = ("auto", "local", "tfds", "bundled")
ENV_DATA_DIR = "GAN_REPRO_DATA"
ENV_SAMPLES_DIR = "GAN_REPRO_SAMPLES"
_HOW_TO_POINT = f"pass --data-dir (data_dir=...) or set {ENV_DATA_DIR}"
_TFDS_CHUNK = 8192


@dataclass(frozen=True, eq=False)
class Domain:
    """One loaded dataset split.

    images: uint8 [N,H,W] (grey) or [N,H,W,3]; labels: int64 [N];
    provenance: one sentence saying where the data came from (printed in run logs and reports).
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    provenance: str

    def __post_init__(self):
        if len(self.images) != len(self.labels):
            raise CorruptDataError(
                f"{self.name}: {len(self.images)} images but {len(self.labels)} labels "
                f"({self.provenance})"
            )

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (
            f"Domain(name={self.name!r}, images={self.images.dtype}{list(self.images.shape)}, "
            f"provenance={self.provenance!r})"
        )

    #: The per-example array fields, indexed together by :meth:`subset` (subclasses extend it).
    per_example = ("images", "labels")

    def subset(self, index, *, name: str | None = None, note: str = ""):
        """The examples at ``index`` (slice, int array or bool mask), provenance + ``note``."""
        provenance = f"{self.provenance}; {note}" if note else self.provenance
        return dataclasses.replace(
            self,
            name=name or self.name,
            provenance=provenance,
            **{field: getattr(self, field)[index] for field in self.per_example},
        )


# ----------------------------------------------------------------------------------- locations
def resolve_data_dir(data_dir=None) -> Path | None:
    """The data dir: the explicit argument, else ``$GAN_REPRO_DATA``, else None."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env).expanduser() if env else None


def bundled_samples_dir() -> Path:
    """``$GAN_REPRO_SAMPLES``, else ``<repo>/data/samples``; DatasetMissingError if absent."""
    env = os.environ.get(ENV_SAMPLES_DIR)
    repo = Path(__file__).resolve().parents[2]
    path = Path(env).expanduser() if env else repo / "data" / "samples"
    if not path.is_dir():
        raise DatasetMissingError(
            f"the bundled samples folder {path} does not exist. It ships in the repository "
            f"(data/samples); with an installed package set {ENV_SAMPLES_DIR} to a checkout's "
            "data/samples, or use source='local'/'tfds'."
        )
    return path


def _find(data_dir: Path | None, subdir: str, names) -> Path | None:
    """First existing ``data_dir/name`` or ``data_dir/subdir/name``."""
    if data_dir is None:
        return None
    for folder in (data_dir, data_dir / subdir):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def _looked_in(data_dir: Path | None, subdir: str) -> str:
    if data_dir is None:
        return f"no data dir is set ({_HOW_TO_POINT})"
    return f"looked in {data_dir} and {data_dir / subdir} (data dir: {_HOW_TO_POINT})"


def _read_bytes(path: Path) -> bytes:
    """File content, gunzipped when it starts with the gzip magic; CorruptDataError if damaged."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as ex:
        raise CorruptDataError(
            f"{path} cannot be read ({type(ex).__name__}: {ex}); the file is truncated or "
            "damaged: delete it and re-download it."
        ) from ex


# ----------------------------------------------------------------------------------------- MNIST
def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse an IDX file (MNIST: big-endian magic 0x00000803 / 0x00000801, dims, uint8 data)."""
    raw = _read_bytes(path)
    fix = "delete it and re-download it"
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != magic:
        found = hex(int.from_bytes(raw[:4], "big")) if len(raw) >= 4 else "nothing"
        raise CorruptDataError(
            f"{path} is not an IDX file of the expected kind: magic number {found}, expected "
            f"{hex(magic)}. Check the file name, or {fix}."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = tuple(int(d) for d in np.frombuffer(raw[4:header], ">u4")) if len(raw) >= header else ()
    if len(dims) != ndim or len(raw) != header + int(np.prod(dims)):
        raise CorruptDataError(
            f"{path} holds {len(raw)} bytes but its header {dims} promises "
            f"{header + int(np.prod(dims)) if dims else 'more'}: the file is truncated or "
            f"damaged; {fix}."
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def _mnist_names(split: str) -> tuple[list[str], list[str]]:
    prefix = "train" if split == "train" else "t10k"
    img, lbl = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    return [img + ".gz", img], [lbl + ".gz", lbl]


def _mnist_from_dir(folder: Path | None, split: str, what: str) -> Domain:
    img_names, lbl_names = _mnist_names(split)
    img_path, lbl_path = _find(folder, "mnist", img_names), _find(folder, "mnist", lbl_names)
    if img_path is None or lbl_path is None:
        missing = img_names[0] if img_path is None else lbl_names[0]
        raise DatasetMissingError(
            f"MNIST {split!r} not found: {missing} (or un-gzipped) is missing; "
            f"{_looked_in(folder, 'mnist')}. Put the official {img_names[0]} and {lbl_names[0]} "
            "there (http://yann.lecun.com/exdb/mnist/, mirror "
            "https://ossci-datasets.s3.amazonaws.com/mnist/) or use source='tfds' (TFDS 'mnist')."
        )
    images, labels = _read_idx(img_path, 0x803), _read_idx(lbl_path, 0x801)
    if images.shape[1:] != (28, 28) or len(images) != len(labels) or labels.max(initial=0) > 9:
        raise CorruptDataError(
            f"{img_path} / {lbl_path}: {images.shape} images with {labels.shape} labels is not "
            "an MNIST split (expected [N,28,28] and N labels 0..9); re-download both files."
        )
    what = what or f"local idx files {img_path} + {lbl_path.name}"
    return Domain("mnist", images.copy(), labels.astype(np.int64), f"{what} ({len(images)})")


# ------------------------------------------------------------------------------------------ SVHN
def _svhn_from_dir(folder: Path | None, split: str) -> Domain:
    name = f"{split}_32x32.mat"
    path = _find(folder, "svhn", [name])
    if path is None:
        raise DatasetMissingError(
            f"SVHN {split!r} not found: {name} is missing; {_looked_in(folder, 'svhn')}. Get it "
            f"from http://ufldl.stanford.edu/housenumbers/{name} or use source='tfds' "
            "(TFDS 'svhn_cropped')."
        )
    import scipy.io

    try:
        mat = scipy.io.loadmat(path)
        x, y = mat["X"], np.asarray(mat["y"]).reshape(-1)
    except Exception as ex:  # scipy raises many kinds on a damaged file
        raise CorruptDataError(
            f"{path} cannot be read as an SVHN .mat file ({type(ex).__name__}: {ex}); "
            "delete it and re-download it."
        ) from ex
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] != len(y):
        raise CorruptDataError(
            f"{path}: X has shape {x.shape} and y {y.shape}; expected X [32,32,3,N] and N labels. "
            "Re-download it."
        )
    labels = y.astype(np.int64)
    labels[labels == 10] = 0  # SVHN stores the digit 0 as label 10
    images = np.ascontiguousarray(np.transpose(x, (3, 0, 1, 2))).astype(np.uint8)
    return Domain("svhn", images, labels, f"local file {path} ({len(images)})")


# ------------------------------------------------------------------------------------------ USPS
def _usps_from_text(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """ESL ``zip.train``/``zip.test``: one row per digit, the label then 256 values in [-1, 1]."""
    try:
        rows = np.loadtxt(_read_bytes(path).decode("ascii").splitlines(), dtype=np.float64, ndmin=2)
    except ValueError as ex:
        msg = f"{path} is not an ESL USPS text file ({ex}); re-download it."
        raise CorruptDataError(msg) from ex
    labels = rows[:, 0] if rows.shape[1] == 257 else np.array([])
    if (
        rows.shape[1] != 257
        or not np.isfinite(rows).all()
        or np.any(labels != np.round(labels))
        or np.abs(rows[:, 1:]).max(initial=0) > 1
    ):
        raise CorruptDataError(
            f"{path}: rows of {rows.shape[1]} values; expected a label 0..9 then 256 values in "
            "[-1, 1]. Re-download it."
        )
    return rows[:, 1:].reshape(-1, 16, 16), labels.astype(np.int64)


def _usps_from_npz(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as z:
            return z[f"x_{split}"], z[f"y_{split}"].astype(np.int64)
    except (OSError, KeyError, ValueError, zlib.error, zipfile.BadZipFile) as ex:
        raise CorruptDataError(
            f"{path} cannot be read as the USPS npz (keys x_{split}, y_{split}): {ex}"
        ) from ex


_KAGGLE_USPS = "https://www.kaggle.com/bistaumanga/usps-dataset"


def _usps_from_h5(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Kaggle ``usps.h5`` (bistaumanga/usps-dataset, the copy report 002 used, L160).

    HDF5 groups ``train`` (7,291 digits) and ``test`` (2,007), each with ``data`` [N,256] floats in
    [0, 1] (16x16 row-major) and ``target`` [N] labels 0..9. The floats are mapped to uint8 with
    round(x * 255); the ESL text holds the same digits in [-1, 1], mapped with round((x+1)*127.5),
    the same grey level (:func:`.transforms._grid_to_uint8` settles ties the same way for both).
    """
    fix = (
        "the file is damaged or is not the Kaggle USPS file: delete it and re-download it "
        f"({_KAGGLE_USPS})"
    )
    try:
        import h5py
    except ImportError as ex:  # h5py comes with tensorflow; only a bare install lacks it
        raise DatasetMissingError(
            f"{path} is an HDF5 file and reading it needs h5py (pip install h5py)"
        ) from ex
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in (f"{split}/data", f"{split}/target") if k not in f]
            if missing:
                raise CorruptDataError(
                    f"{path} lacks {', '.join(missing)} (top-level keys: {sorted(f.keys())}); "
                    f"expected groups train/test with datasets data and target: {fix}."
                )
            x, y = f[f"{split}/data"][()], f[f"{split}/target"][()]
    except CorruptDataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as ex:  # not HDF5, truncated, not datasets
        raise CorruptDataError(
            f"{path} cannot be read as the Kaggle USPS HDF5 file ({type(ex).__name__}: {ex}); "
            f"{fix}."
        ) from ex
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    what = f"{path} [{split}]: data {x.dtype}{list(x.shape)}, target {y.dtype}{list(y.shape)}"
    if x.ndim == 3 and x.shape[1:] == (16, 16):
        x = x.reshape(len(x), 256)
    if (
        x.ndim != 2
        or x.shape[1] != 256
        or len(x) != len(y)
        or x.dtype.kind != "f"
        or y.dtype.kind not in "iuf"
    ):
        raise CorruptDataError(f"{what}; expected data [N,256] floats and N integer labels: {fix}.")
    if len(x) and (not np.isfinite(x).all() or x.min() < -1e-6 or x.max() > 1 + 1e-6):
        raise CorruptDataError(
            f"{what}: pixel values span [{np.nanmin(x)}, {np.nanmax(x)}], expected [0, 1]: {fix}."
        )
    if len(y) and (np.any(y != np.round(y)) or y.min() < 0 or y.max() > 9):
        raise CorruptDataError(f"{what}: labels outside the integers 0..9: {fix}.")
    return _grid_to_uint8(x, 0.0).reshape(-1, 16, 16), y.astype(np.int64)


def _usps_domain(x: np.ndarray, y: np.ndarray, path: Path, what: str) -> Domain:
    if x.ndim != 3 or x.shape[1:] != (16, 16) or len(x) != len(y):
        raise CorruptDataError(f"{path}: images {x.shape}, labels {y.shape}; expected [N,16,16].")
    images = x if x.dtype == np.uint8 else _grid_to_uint8(x, -1.0)  # ESL floats in [-1, 1]
    return Domain("usps", images, y, f"{what} ({len(images)})")


def _usps_from_dir(folder: Path | None, split: str) -> Domain:
    """USPS from a data dir (directly or in ``usps/``), the first of these that exists:

    1. ESL text ``zip.<split>`` or ``zip.<split>.gz`` (values in [-1, 1]);
    2. Kaggle ``usps.h5`` (values in [0, 1]; both splits in one file);
    3. ``usps_16x16.npz`` (the ESL values converted, keys ``x_<split>``, ``y_<split>``).
    """
    text = _find(folder, "usps", [f"zip.{split}", f"zip.{split}.gz"])
    if text is not None:
        x, y = _usps_from_text(text)
        return _usps_domain(x, y, text, f"local ESL text file {text}")
    h5 = _find(folder, "usps", ["usps.h5"])
    if h5 is not None:
        x, y = _usps_from_h5(h5, split)
        return _usps_domain(x, y, h5, f"local Kaggle HDF5 {h5} [{split}]")
    npz = _find(folder, "usps", ["usps_16x16.npz"])
    if npz is not None:
        x, y = _usps_from_npz(npz, split)
        return _usps_domain(x, y, npz, f"local npz {npz} [{split}]")
    raise DatasetMissingError(
        f"USPS {split!r} not found: zip.{split} (or zip.{split}.gz), usps.h5 and usps_16x16.npz "
        f"are all missing; {_looked_in(folder, 'usps')}. Get zip.{split}.gz from "
        "https://hastie.su.domains/ElemStatLearn/datasets/ (ESL data page), or usps.h5 (both "
        f"splits) from {_KAGGLE_USPS} (the copy report 002 used). TFDS has no USPS; "
        "source='bundled' loads the complete copy shipped in data/samples/usps."
    )


# ------------------------------------------------------------------------------------------ TFDS
def _from_tfds(tfds_name: str, split: str, local_files: str, folder: Path | None, subdir: str):
    """Load a whole TFDS split as numpy (images, labels); DatasetMissingError if it fails.

    Read in chunks rather than with ``batch_size=-1``: with -1 TFDS batches by the split size
    from its metadata, and falls back to ``sys.maxsize`` when that is unknown (e.g. under
    ``tfds.testing.mock_data``), which aborts the whole process in ``vector::reserve``.
    """
    try:
        import tensorflow_datasets as tfds

        ds = tfds.load(
            tfds_name, split=split, as_supervised=True, download=True, batch_size=_TFDS_CHUNK
        )
        chunks = list(tfds.as_numpy(ds))
    except Exception as ex:  # no network, not prepared, missing extra packages, ...
        raise DatasetMissingError(
            f"TFDS dataset {tfds_name!r} (split {split!r}) could not be loaded "
            f"({type(ex).__name__}: {str(ex)[:300]}). Either prepare it once on a machine with "
            f"internet (tfds.load({tfds_name!r}); it is cached in ~/tensorflow_datasets or "
            f"$TFDS_DATA_DIR), or put the official files {local_files} in a data dir: "
            f"{_looked_in(folder, subdir)}."
        ) from ex
    if not chunks:
        raise DatasetMissingError(f"TFDS dataset {tfds_name!r} split {split!r} is empty")
    images = np.concatenate([c[0] for c in chunks])
    labels = np.concatenate([c[1] for c in chunks]).astype(np.int64)
    return images, labels


def _check(source: str, split: str, splits) -> None:
    check_choice("source", source, SOURCES)
    check_choice("split", split, splits)


# ---------------------------------------------------------------------------------- public API
def load_mnist(split: str = "train", data_dir=None, source: str = "auto") -> Domain:
    """MNIST as uint8 [N,28,28] + int64 labels (spec 4, L519: 60,000 train images, from TFDS)."""
    _check(source, split, ("train", "test"))
    folder = resolve_data_dir(data_dir)
    if source == "bundled":
        what = (
            f"BUNDLED SAMPLE data/samples/mnist (the MNIST *test* set t10k, used as a sample; "
            f"split {split!r} was asked)"
        )
        return _mnist_from_dir(bundled_samples_dir() / "mnist", "test", what)
    img_names, lbl_names = _mnist_names(split)
    if source == "local" or (
        source == "auto" and _find(folder, "mnist", img_names) and _find(folder, "mnist", lbl_names)
    ):
        return _mnist_from_dir(folder, split, "")
    images, labels = _from_tfds("mnist", split, f"{img_names[0]} + {lbl_names[0]}", folder, "mnist")
    images = images.reshape(len(images), 28, 28)
    return Domain("mnist", images, labels, f"TFDS mnist:{split} ({len(images)})")


def load_svhn(split: str = "train", data_dir=None, source: str = "auto") -> Domain:
    """SVHN cropped digits as uint8 [N,32,32,3] + int64 labels, 0..9 (spec 4, L546: 73,257 train).

    There is no bundled SVHN (no real subset of useful size could be shipped): for smoke runs
    use :func:`gan_repro.data.load_svhn_standin`, which is clearly labelled as not SVHN.
    """
    _check(source, split, ("train", "test", "extra"))
    folder = resolve_data_dir(data_dir)
    if source == "bundled":
        raise DatasetMissingError(
            "there is no bundled SVHN (only 4 example PNGs in data/samples/svhn, not a dataset). "
            "Use source='tfds' (TFDS 'svhn_cropped') or 'local' with train_32x32.mat / "
            "test_32x32.mat, or for smoke-scale runs load_svhn_standin() (a synthetic stand-in)."
        )
    if source == "local" or (source == "auto" and _find(folder, "svhn", [f"{split}_32x32.mat"])):
        return _svhn_from_dir(folder, split)
    images, labels = _from_tfds("svhn_cropped", split, f"{split}_32x32.mat", folder, "svhn")
    return Domain("svhn", images, labels, f"TFDS svhn_cropped:{split} ({len(images)})")


def load_usps(split: str = "train", data_dir=None, source: str = "auto") -> Domain:
    """USPS 16x16 digits as uint8 [N,16,16] + int64 labels 0..9 (spec 002 section 4, L150).

    ESL ``zip.train`` has 7,291 and ``zip.test`` 2,007 digits; the Kaggle ``usps.h5`` (report
    002's source, L160) holds the same splits. ``'local'``/``'auto'`` search the data dir
    (directly or in ``usps/``) in this order and load the first found:

    1. ESL text ``zip.<split>`` / ``zip.<split>.gz``: values in [-1, 1], mapped to uint8 with
       round((x + 1) * 127.5);
    2. Kaggle ``usps.h5``: ``<split>/data`` [N,256] in [0, 1], mapped with round(x * 255);
    3. ``usps_16x16.npz``: the ESL values as float32, mapped like the text.

    Halves round up, on values snapped to the text's 1e-4 grid, so the three routes (and the
    bundled npz) give identical pixels. TFDS has no USPS build, so ``source='tfds'`` is
    refused; ``'bundled'`` is the complete ESL data (data/samples/usps).
    """
    _check(source, split, ("train", "test"))
    if source == "tfds":
        raise BadOptionError(
            "source='tfds' is not available for USPS: tensorflow-datasets has no USPS build. "
            "Use source='local' (ESL zip.train/zip.test, Kaggle usps.h5 or usps_16x16.npz) or "
            "'bundled'."
        )
    if source == "bundled":
        path = bundled_samples_dir() / "usps" / "usps_16x16.npz"
        if not path.is_file():
            raise DatasetMissingError(f"the bundled USPS file {path} is missing")
        x, y = _usps_from_npz(path, split)
        what = f"BUNDLED SAMPLE data/samples/usps/usps_16x16.npz (complete ESL USPS {split})"
        return _usps_domain(x, y, path, what)
    return _usps_from_dir(resolve_data_dir(data_dir), split)


def mnist2edge(mnist: Domain) -> tuple[Domain, Domain]:
    """The two disjoint MNIST2edge domains (spec 4, L533-537): first half plain, second edges."""
    plain, edges = mnist2edge_domains(mnist.images)
    half = len(plain)
    first = mnist.subset(slice(0, half), note=f"MNIST2edge domain 1: images [0, {half})")
    second = Domain(
        "mnist_edge",
        edges,
        mnist.labels[half : 2 * half],
        f"{mnist.provenance}; MNIST2edge domain 2: dilate(3x3)-minus-image edges of images "
        f"[{half}, {2 * half})",
    )
    return first, second
