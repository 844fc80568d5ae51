"""Unpaired image sets for the CycleGAN-vs-UNIT experiment (spec 003 section 4, L421-439).

The thesis trained on 5,866 MS-Celeb-1M photos (L429) and 3,528 Danbooru2017 anime faces
(L423), resized to 256x256 (L439). Neither set can be had any more (MS-Celeb-1M was withdrawn
in 2019; Danbooru2017 is a raw crawl), so a run uses a substitute, recorded as a deviation:

:func:`load_unpaired_folder`   a CycleGAN-layout folder ``root/trainA, trainB, testA, testB``:
                               the default pair is selfie2anime of U-GAT-IT (Kim et al. 2020;
                               3,400 + 3,400 train, 100 + 100 test, 256x256), or any
                               ``<name>.zip`` of the CycleGAN authors unpacked;
:func:`load_unpaired_tfds`     TFDS ``cycle_gan/<name>`` (apple2orange, horse2zebra, ...), whose
                               splits are the same four;
:func:`load_celeba_attribute`  a real unpaired pair made from CelebA by one attribute: A = faces
                               without it, B = faces with it. UNIT's own CelebA task (the 2017
                               UNIT code's ``exps/unit/blondhair.yaml``: non-blond <-> blond);
                               a CPU-scale stand-in, with no anime images involved.

Pixels (:func:`prepare_image`): grey -> 3 channels, RGBA -> RGB (alpha dropped), then
``crop="center"`` takes the central square (side min(H, W)) and ``crop="none"`` keeps the whole
image (the aspect changes), then a resize to ``size x size`` with ``cv2.INTER_AREA`` when
shrinking and ``cv2.INTER_LINEAR`` (bilinear) when enlarging. Files are decoded with OpenCV
(BGR -> RGB). Everything returns uint8 ``[N, size, size, 3]`` arrays and a JSON-able record.

Sizes. A requested size ``n`` for a split takes a seeded subset (``np.random.default_rng(seed)
.choice(N, n, replace=False)``, then sorted, drawn independently per split) when the split holds
more than ``n`` images; when it holds fewer, all are used and ``record["warnings"]`` says so
loudly (e.g. the thesis's 5,866 photos from a 3,400-image folder).

A missing folder or dataset raises :class:`DatasetMissingError` saying what was looked for and
where to get it; an image that cannot be decoded raises :class:`CorruptDataError` naming it.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadOptionError, CorruptDataError, DatasetMissingError, check_choice
from .sources import resolve_data_dir

SPLITS = ("trainA", "trainB", "testA", "testB")
CROPS = ("center", "none")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
RESIZE_NOTE = "cv2 INTER_AREA to shrink / INTER_LINEAR (bilinear) to enlarge"
#: The thesis's training sizes per domain (A = MS-Celeb-1M photos L429, B = Danbooru2017 L423).
THESIS_SIZES = {"trainA": 5866, "trainB": 3528}
#: The TFDS ``cycle_gan`` builder's configs (tensorflow_datasets image_classification/cycle_gan).
CYCLE_GAN_SETS = (
    "apple2orange",
    "summer2winter_yosemite",
    "horse2zebra",
    "monet2photo",
    "cezanne2photo",
    "ukiyoe2photo",
    "vangogh2photo",
    "maps",
    "facades",
    "iphone2dslr_flower",
)
UGATIT_URL = "https://github.com/taki0112/UGATIT"
CELEBA_URL = "http://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
LAYOUT = "trainA/ trainB/ testA/ testB/"
HOW_TO_GET = (
    f"Expected the CycleGAN layout {LAYOUT} (images .jpg/.jpeg/.png/.bmp). The default pair, "
    f"selfie2anime, is linked from the U-GAT-IT repository README ({UGATIT_URL}, the "
    "'selfie2anime' dataset link; 3,400 + 3,400 train, 100 + 100 test, 256x256): unzip it "
    "into the data dir as selfie2anime/. The CycleGAN authors' sets (horse2zebra, "
    "apple2orange, ...) load with `source: tfds` (TFDS cycle_gan/<name>)."
)
_CELEBA_IMAGE_FOLDERS = ("img_align_celeba", "img_align_celeba_89x109")
_CELEBA_SUBFOLDERS = ("", "celeba", "CelebA")
_CELEBA_ATTR = "list_attr_celeba.txt"
_CELEBA_HOW_TO_GET = (
    f"Get img_align_celeba.zip and list_attr_celeba.txt from the official CelebA site "
    f"({CELEBA_URL}; Img/ and Anno/) and put them in the data dir (or its celeba/ subfolder), "
    "or prepare TFDS `celeb_a` once on a machine with internet"
)


@dataclass
class UnpairedSet:
    """Two unpaired domains, each with a train and a held-out test split.

    ``train_a, train_b, test_a, test_b``: uint8 [N, S, S, 3]; ``names``: split (``trainA``,
    ``trainB``, ``testA``, ``testB``) -> the file names (or TFDS ids) in array order;
    ``record``: JSON-able provenance (per split), sizes, requested sizes, preparation, warnings.
    """

    train_a: np.ndarray
    train_b: np.ndarray
    test_a: np.ndarray
    test_b: np.ndarray
    names: dict[str, list[str]] = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    def split(self, name: str) -> np.ndarray:
        """The array of split ``trainA``/``trainB``/``testA``/``testB``."""
        check_choice("split", name, SPLITS)
        return {
            "trainA": self.train_a,
            "trainB": self.train_b,
            "testA": self.test_a,
            "testB": self.test_b,
        }[name]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{s}={list(self.split(s).shape)}" for s in SPLITS)
        return f"UnpairedSet({shapes}, source={self.record.get('source')!r})"


# ---------------------------------------------------------------------------------------- pixels
def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise BadOptionError(f"size={size!r} must be a positive integer (pixels per side)")
    return int(size)


def prepare_image(image: np.ndarray, size: int, crop: str = "center") -> np.ndarray:
    """One uint8 image (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA -> uint8 [size, size, 3].

    Grey is repeated to 3 channels and alpha dropped; ``crop="center"`` keeps the central
    min(H, W) square (top/left offset rounded down), ``"none"`` the whole image. The resize uses
    ``cv2.INTER_AREA`` when the longer side shrinks and ``cv2.INTER_LINEAR`` otherwise; an image
    already ``size x size`` is returned as is (copied). Deterministic.
    """
    check_choice("crop", crop, CROPS)
    size = _check_size(size)
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise BadOptionError(f"prepare_image takes uint8 pixels, got {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4) or min(img.shape[:2]) < 1:
        raise BadOptionError(
            f"prepare_image takes an (H, W) or (H, W, 1|3|4) image, got shape {img.shape}"
        )
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    elif img.shape[2] == 4:
        img = img[:, :, :3]
    if crop == "center":
        h, w = img.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        img = img[top : top + side, left : left + side]
    if img.shape[:2] != (size, size):
        flag = cv2.INTER_AREA if max(img.shape[:2]) > size else cv2.INTER_LINEAR
        img = cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=flag)
    return np.ascontiguousarray(img, dtype=np.uint8).reshape(size, size, 3)


def _decode_bytes(raw: bytes, what: str, fix: str) -> np.ndarray:
    """Encoded image bytes -> uint8 RGB [H, W, 3]; CorruptDataError naming ``what`` if damaged."""
    # OpenCV decodes a cut-off file into a half-grey image with only a libjpeg warning: a file
    # is cut off when no end marker follows its last scan (JPEG) or image data chunk (PNG).
    # Bytes after the end marker and an EXIF thumbnail's own markers are allowed.
    head = raw[:8]
    if head[:2] == b"\xff\xd8" and raw.rfind(b"\xff\xd9") < raw.rfind(b"\xff\xda"):
        raise CorruptDataError(f"{what} is truncated (no JPEG end-of-image marker); {fix}.")
    if head == b"\x89PNG\r\n\x1a\n" and raw.rfind(b"IEND") < raw.rfind(b"IDAT"):
        raise CorruptDataError(f"{what} is truncated (no PNG IEND chunk); {fix}.")
    img = None
    if raw:
        img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.ndim != 3 or min(img.shape[:2]) < 1:
        raise CorruptDataError(f"{what} cannot be decoded as an image; {fix}.")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _decode_file(path: Path, size: int, crop: str) -> tuple[np.ndarray, str]:
    """One image file -> (prepared uint8 [size, size, 3], its 'HxW' on disk)."""
    fix = "delete or replace this file (re-extract it from the dataset's archive)"
    try:
        raw = path.read_bytes()
    except OSError as ex:
        raise CorruptDataError(f"{path} cannot be read ({ex}); {fix}.") from ex
    img = _decode_bytes(raw, str(path), fix)
    return prepare_image(img, size, crop), f"{img.shape[0]}x{img.shape[1]}"


def _prepare_many(items, decode, size: int) -> tuple[np.ndarray, Counter]:
    """Decode ``items`` with ``decode(item) -> (image, 'HxW')`` on threads (cv2 frees the GIL)."""
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        decoded = list(pool.map(decode, items))
    images = np.empty((len(decoded), size, size, 3), np.uint8)
    for i, (img, _) in enumerate(decoded):
        images[i] = img
    return images, Counter(shape for _, shape in decoded)


# ----------------------------------------------------------------------------------------- sizes
def _pair(value, what: str) -> tuple[int | None, int | None]:
    """None -> (None, None); n -> (n, n); (a, b) -> (a, b); each None or a positive integer."""
    if value is None:
        return None, None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        value = (value, value)
    try:
        a, b = value
    except (TypeError, ValueError):
        raise BadOptionError(
            f"{what}={value!r} must be None, one size for both domains, or a pair [A, B]"
        ) from None
    for n in (a, b):
        ok = n is None or (isinstance(n, int | np.integer) and not isinstance(n, bool) and n > 0)
        if not ok:
            raise BadOptionError(f"{what}={value!r}: each size must be None or a positive integer")
    return (None if a is None else int(a)), (None if b is None else int(b))


def _choose(count: int, n: int | None, seed: int) -> np.ndarray:
    """Sorted indices: a seeded choice of ``n`` of ``count`` when ``n < count``, else all."""
    if n is None or n >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def _size_warning(split: str, count: int, n: int | None) -> str | None:
    if n is None or n <= count:
        return None
    why = " (the thesis's size)" if THESIS_SIZES.get(split) == n else ""
    return (
        f"{split} holds {count:,} images, fewer than the {n:,} requested{why}: all {count:,} "
        "are used"
    )


def _requested(train_sizes, test_sizes) -> dict[str, int | None]:
    tr, te = _pair(train_sizes, "train_sizes"), _pair(test_sizes, "test_sizes")
    return {"trainA": tr[0], "trainB": tr[1], "testA": te[0], "testB": te[1]}


def _take_splits(listed, requested, seed, size, decode, where):
    """Decode the chosen items of each split: ``listed`` split -> item names, ``decode(split,
    item) -> (image, 'HxW')``, ``where(split)`` the provenance prefix. Returns the record part
    (provenance, available, sizes, requested_sizes, source_shapes, warnings), arrays and names.
    """
    arrays, names, provenance, shapes, available, sizes, warnings = {}, {}, {}, {}, {}, {}, []
    for split in SPLITS:
        items = listed[split]
        chosen = [items[i] for i in _choose(len(items), requested[split], seed)]
        arrays[split], shape_counts = _prepare_many(
            chosen, lambda item, split=split: decode(split, item), size
        )
        names[split] = chosen
        available[split], sizes[split] = len(items), len(chosen)
        shapes[split] = dict(sorted(shape_counts.items()))
        warning = _size_warning(split, len(items), requested[split])
        if warning:
            warnings.append(warning)
        which = "all" if len(chosen) == len(items) else f"a seeded subset (seed {seed}) of"
        provenance[split] = f"{where(split)}: {which} {len(items):,} images -> {len(chosen):,}"
    record = {
        "provenance": provenance,
        "available": available,
        "sizes": sizes,
        "requested_sizes": dict(requested),
        "source_shapes": shapes,
        "warnings": warnings,
    }
    return record, arrays, names


def _assemble(arrays, names, record) -> UnpairedSet:
    return UnpairedSet(
        train_a=arrays["trainA"],
        train_b=arrays["trainB"],
        test_a=arrays["testA"],
        test_b=arrays["testB"],
        names=names,
        record=record,
    )


# ---------------------------------------------------------------------------------------- folder
def _is_image(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES)


def _list_images(folder: Path) -> list[str]:
    with os.scandir(folder) as it:
        return sorted(e.name for e in it if e.is_file() and _is_image(e.name))


def load_unpaired_folder(
    root,
    size: int = 256,
    train_sizes=(None, None),
    test_sizes=(None, None),
    seed: int = 2018,
    crop: str = "center",
    name: str | None = None,
) -> UnpairedSet:
    """A CycleGAN-layout folder ``root/trainA, trainB, testA, testB`` as an :class:`UnpairedSet`.

    Images (.jpg .jpeg .png .bmp, any case; hidden files skipped) are read in name order, decoded
    with OpenCV and prepared by :func:`prepare_image`. ``train_sizes``/``test_sizes``: (A, B)
    sizes (None = all; one int = both); see the module docstring for subsets and warnings.
    ``name``: the pair's name for the record (default: the folder's name).
    """
    check_choice("crop", crop, CROPS)
    size = _check_size(size)
    requested = _requested(train_sizes, test_sizes)
    if root is None:
        raise DatasetMissingError(f"no unpaired image folder was given. {HOW_TO_GET}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetMissingError(f"the unpaired image folder {root} does not exist. {HOW_TO_GET}")
    listed = {}
    for split in SPLITS:
        folder = root / split
        if not folder.is_dir():
            raise DatasetMissingError(f"{folder} is missing (folder {root}). {HOW_TO_GET}")
        files = _list_images(folder)
        if not files:
            raise DatasetMissingError(f"{folder} holds no images (folder {root}). {HOW_TO_GET}")
        listed[split] = files
    record, arrays, names = _take_splits(
        listed,
        requested,
        seed,
        size,
        lambda split, f: _decode_file(root / split / f, size, crop),
        lambda split: f"folder {root / split}",
    )
    record = {
        "name": name or root.name,
        "source": "folder",
        "root": str(root),
        **record,
        "preparation": {"size": size, "crop": crop, "resize": RESIZE_NOTE, "colour": "RGB"},
        "seed": int(seed),
    }
    return _assemble(arrays, names, record)


# ------------------------------------------------------------------------------------------ TFDS
def _tfds_split(tfds_name: str, split: str, data_dir) -> list[tuple[str, bytes]]:
    """(tfds_id, encoded bytes) of every example of a split, in the stored order."""
    import tensorflow_datasets as tfds

    ds = tfds.load(
        tfds_name,
        split=split,
        data_dir=None if data_dir is None else str(data_dir),
        download=True,
        shuffle_files=False,
        decoders={"image": tfds.decode.SkipDecoding()},
        read_config=tfds.ReadConfig(add_tfds_id=True),
    )
    out = []
    for i, ex in enumerate(tfds.as_numpy(ds)):
        tid = ex.get("tfds_id", f"{tfds_name}:{split}[{i}]")
        out.append((tid.decode() if isinstance(tid, bytes) else str(tid), bytes(ex["image"])))
    return out


def load_unpaired_tfds(
    name: str,
    size: int = 256,
    data_dir=None,
    train_sizes=(None, None),
    test_sizes=(None, None),
    seed: int = 2018,
    crop: str = "center",
) -> UnpairedSet:
    """TFDS ``cycle_gan/<name>`` (splits trainA, trainB, testA, testB) as an :class:`UnpairedSet`.

    ``data_dir``: TFDS's data dir (None: ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``); the
    set is downloaded and prepared on first use when the machine has internet. The encoded
    images are decoded with OpenCV and prepared as the folder ones are; ``names`` holds the
    TFDS ids. Subsets and warnings as in :func:`load_unpaired_folder`.
    """
    if name == "selfie2anime":
        raise BadOptionError(
            f"selfie2anime is not in TFDS (its cycle_gan sets: {', '.join(CYCLE_GAN_SETS)}); "
            f"load it from a folder (source: folder). {HOW_TO_GET}"
        )
    check_choice("name", name, CYCLE_GAN_SETS)
    check_choice("crop", crop, CROPS)
    size = _check_size(size)
    requested = _requested(train_sizes, test_sizes)
    tfds_name = f"cycle_gan/{name}"
    encoded = {}
    for split in SPLITS:
        try:
            encoded[split] = _tfds_split(tfds_name, split, data_dir)
        except Exception as ex:  # no network, not prepared, a damaged cache, ...
            raise DatasetMissingError(
                f"TFDS dataset {tfds_name!r} (split {split!r}) could not be loaded "
                f"({type(ex).__name__}: {str(ex)[:300]}). Either prepare it once on a machine "
                f"with internet (tfds.load({tfds_name!r}), cached in ~/tensorflow_datasets or "
                f"$TFDS_DATA_DIR), or run `tfds build {tfds_name}` with the CycleGAN zip in "
                f"its manual/download dir, or unzip {name}.zip and load the folder "
                f"(source: folder; layout {LAYOUT})."
            ) from ex
        if not encoded[split]:
            raise DatasetMissingError(f"TFDS dataset {tfds_name!r} split {split!r} is empty")
    fix = f"the TFDS cache of {tfds_name} is damaged: delete its folder and prepare it again"
    raw = {split: dict(encoded[split]) for split in SPLITS}

    def decode(split, tid):
        img = _decode_bytes(raw[split][tid], f"TFDS {tfds_name}:{split} example {tid}", fix)
        return prepare_image(img, size, crop), f"{img.shape[0]}x{img.shape[1]}"

    record, arrays, names = _take_splits(
        {split: [tid for tid, _ in encoded[split]] for split in SPLITS},
        requested,
        seed,
        size,
        decode,
        lambda split: f"TFDS {tfds_name}:{split}",
    )
    record = {
        "name": name,
        "source": "tfds",
        "root": f"tfds:{tfds_name}" + ("" if data_dir is None else f" in {data_dir}"),
        **record,
        "preparation": {"size": size, "crop": crop, "resize": RESIZE_NOTE, "colour": "RGB"},
        "seed": int(seed),
    }
    return _assemble(arrays, names, record)


# ---------------------------------------------------------------------------------------- CelebA
def _find_celeba(data_dir) -> tuple[Path, Path, Path, dict[str, int]]:
    """(base folder, attribute file, image folder, image count per candidate folder)."""
    root = resolve_data_dir(data_dir)
    if root is None:
        raise DatasetMissingError(
            "CelebA not found: no data dir is set (pass --data-dir / data_dir=... or set "
            f"GAN_REPRO_DATA). {_CELEBA_HOW_TO_GET}."
        )
    tried = []
    for sub in _CELEBA_SUBFOLDERS:
        base = root / sub if sub else root
        for attr in (base / _CELEBA_ATTR, base / "Anno" / _CELEBA_ATTR):
            tried.append(str(attr))
            if not attr.is_file():
                continue
            counts = {}
            for folder in _CELEBA_IMAGE_FOLDERS:
                for place in (base / folder, base / "Img" / folder):
                    if place.is_dir():
                        counts[str(place)] = len(_list_images(place))
            present = {k: v for k, v in counts.items() if v}
            if not present:
                looked = ", ".join(
                    str(base / f) for f in (*_CELEBA_IMAGE_FOLDERS, "Img/img_align_celeba")
                )
                raise DatasetMissingError(
                    f"CelebA images not found: {attr} is there but none of {looked} holds "
                    f"images. {_CELEBA_HOW_TO_GET}."
                )
            # the folder with the most images; on a tie the first (the official 178x218 one)
            best = max(present, key=lambda k: (present[k], -list(present).index(k)))
            return base, attr, Path(best), present
    raise DatasetMissingError(
        f"CelebA not found: no {_CELEBA_ATTR} in {root} (tried {', '.join(tried)}). "
        f"{_CELEBA_HOW_TO_GET}."
    )


def read_celeba_attributes(path) -> tuple[list[str], dict[str, np.ndarray], int]:
    """Parse ``list_attr_celeba.txt``: (attribute names, file name -> int8 values ±1, line-1 count).

    Line 1 is the image count (which may exceed the rows present: the rows are trusted), line 2
    the attribute names, then ``name v1 ... vK`` rows (any whitespace, CRLF or LF).
    """
    path = Path(path)
    fix = f"re-download {_CELEBA_ATTR} from the CelebA site ({CELEBA_URL}, Anno/)"
    try:
        lines = path.read_bytes().decode("ascii").splitlines()
    except (OSError, UnicodeDecodeError) as ex:
        raise CorruptDataError(f"{path} cannot be read as text ({ex}); {fix}.") from ex
    if len(lines) < 2 or not lines[0].strip().isdigit():
        first = lines[0][:40] if lines else "nothing"
        raise CorruptDataError(f"{path}: line 1 should be the image count, found {first!r}; {fix}.")
    stated = int(lines[0].strip())
    names = lines[1].split()
    if not names:
        raise CorruptDataError(f"{path}: line 2 should list the attribute names; {fix}.")
    rows = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        values = fields[1:]
        if len(values) != len(names) or any(v not in ("1", "-1") for v in values):
            raise CorruptDataError(
                f"{path} line {number}: expected a file name and {len(names)} values 1/-1, got "
                f"{line[:80]!r}; {fix}."
            )
        rows[fields[0]] = np.array([int(v) for v in values], np.int8)
    return names, rows, stated


def load_celeba_attribute(
    data_dir,
    attribute: str = "Blond_Hair",
    size: int = 64,
    test_per_domain: int = 100,
    max_train=(None, None),
    seed: int = 2018,
    crop: str = "center",
) -> UnpairedSet:
    """CelebA split by one attribute: domain A = faces with ``attribute`` -1, B = +1.

    ``data_dir`` (else ``$GAN_REPRO_DATA``) is the folder holding ``list_attr_celeba.txt`` (or
    ``Anno/list_attr_celeba.txt``) and an image folder, or a parent with a ``celeba/``
    subfolder. Image folder: ``img_align_celeba/`` (official 178x218) or
    ``img_align_celeba_89x109/`` (a 2x downsampled copy), whichever holds more images (on a tie
    the official one). Only images on disk that have an attribute row are used.

    Per domain, with ``rng = np.random.default_rng(seed)`` (a fresh one for each domain): the
    held-out test set is ``rng.choice`` of ``test_per_domain`` images, the train set the rest,
    capped at ``max_train`` (A, B) by a second ``rng.choice`` when given; all sorted by name.
    Faces get :func:`prepare_image` (center: the 178x178 or 89x89 square, then resized).
    """
    check_choice("crop", crop, CROPS)
    size = _check_size(size)
    cap = _pair(max_train, "max_train")
    if isinstance(test_per_domain, bool) or not isinstance(test_per_domain, int | np.integer):
        raise BadOptionError(f"test_per_domain={test_per_domain!r} must be an integer >= 0")
    if test_per_domain < 0:
        raise BadOptionError(f"test_per_domain={test_per_domain!r} must be an integer >= 0")
    base, attr_path, image_folder, image_counts = _find_celeba(data_dir)
    attr_names, rows, stated = read_celeba_attributes(attr_path)
    if attribute not in attr_names:
        raise BadOptionError(
            f"attribute={attribute!r} is not a CelebA attribute of {attr_path}; choose one of: "
            + ", ".join(attr_names)
        )
    column = attr_names.index(attribute)
    files = _list_images(image_folder)
    with_row = [f for f in files if f in rows]
    domains = {
        "A": [f for f in with_row if rows[f][column] == -1],
        "B": [f for f in with_row if rows[f][column] == 1],
    }
    arrays, names, sizes, available, warnings, shapes = {}, {}, {}, {}, [], {}
    for k, (dom, members) in enumerate(domains.items()):
        if len(members) <= test_per_domain:
            raise BadOptionError(
                f"domain {dom} ({'not ' if dom == 'A' else ''}{attribute}) has {len(members):,} "
                f"images in {image_folder}, not more than test_per_domain={test_per_domain}: "
                "nothing would be left to train on; lower test_per_domain or use more images"
            )
        rng = np.random.default_rng(seed)
        test_idx = np.sort(rng.choice(len(members), test_per_domain, replace=False))
        is_test = np.zeros(len(members), bool)
        is_test[test_idx] = True
        train_idx = np.flatnonzero(~is_test)
        if cap[k] is not None and cap[k] < len(train_idx):
            train_idx = np.sort(rng.choice(train_idx, cap[k], replace=False))
        for split, idx in ((f"train{dom}", train_idx), (f"test{dom}", test_idx)):
            chosen = [members[i] for i in idx]
            arrays[split], shape_counts = _prepare_many(
                [image_folder / f for f in chosen], lambda p: _decode_file(p, size, crop), size
            )
            names[split] = chosen
            sizes[split] = len(chosen)
            shapes[split] = dict(sorted(shape_counts.items()))
        available[dom] = len(members)
    sizes, shapes = {s: sizes[s] for s in SPLITS}, {s: shapes[s] for s in SPLITS}
    n_with, n_b = len(with_row), len(domains["B"])
    if len(files) > n_with:
        warnings.append(
            f"{len(files) - n_with:,} images of {image_folder} have no row in {attr_path} and are "
            "not used"
        )
    what = f"CelebA {attribute}: A = not {attribute} (-1), B = {attribute} (+1)"
    record = {
        "name": f"celeba_{attribute}",
        "source": "celeba",
        "root": str(base),
        "attribute": attribute,
        "attribute_column": column + 1,  # 1-based, after the file name
        "attribute_file": str(attr_path),
        "attribute_rows": len(rows),
        "attribute_count_line1": stated,
        "image_folder": str(image_folder),
        "image_folders_found": image_counts,
        "images_present": len(files),
        "images_with_row": n_with,
        "domain_counts": {"A": available["A"], "B": available["B"]},
        "b_share": round(n_b / n_with, 6) if n_with else None,
        "provenance": {
            split: f"{what}; {image_folder}: {sizes[split]:,} of the {available[split[-1]]:,} "
            f"domain-{split[-1]} images ({'held out' if split.startswith('test') else 'train'})"
            for split in SPLITS
        },
        "sizes": sizes,
        "requested_sizes": {
            "trainA": cap[0],
            "trainB": cap[1],
            "testA": int(test_per_domain),
            "testB": int(test_per_domain),
        },
        "source_shapes": shapes,
        "preparation": {"size": size, "crop": crop, "resize": RESIZE_NOTE, "colour": "RGB"},
        "split_rule": (
            f"per domain, default_rng({seed}).choice of {test_per_domain} held out, the rest to "
            "train" + (f" capped at {list(cap)} by a second choice" if any(cap) else "")
        ),
        "seed": int(seed),
        "warnings": warnings,
    }
    return _assemble(arrays, names, record)
