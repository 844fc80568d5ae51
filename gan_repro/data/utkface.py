"""UTKFace (aligned & cropped faces, 200x200 RGB JPEG) with labels parsed from the file names.

Spec 000 section 4: UTKFace (Zhang, Song, Qi, CVPR 2017; https://susanqq.github.io/UTKFace/),
the "Aligned&Cropped" set of 23,708 files named ``[age]_[gender]_[race]_[date].jpg.chip.jpg``
(gender 0 male / 1 female; race 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others). The age label is
the integer before the first ``_`` (thesis L920). There is no train/test split in the thesis.

Names. A name is *parsed* when it has the four digit fields with gender in {0, 1} and race in
0..4. It is *partial* when its first field is still an age but the rest is incomplete: the real
set has names with only three fields, e.g. ``61_1_20170109142408075.jpg.chip.jpg``. Which field
is missing cannot be told (in ``61_3_...`` the 3 cannot be a gender), so a three-field name keeps
its age and gets gender = race = None; a four-field name with a gender or race out of range
keeps the other fields. Partial names are kept: the models only use the age. Anything else
(no leading age, non-digit or empty fields, more than four fields, age above :data:`MAX_AGE`) is
*malformed*: counted and listed in the report, never loaded, never a crash. Only ``.jpg`` /
``.jpeg`` files are looked at; other files and hidden files (e.g. macOS ``._*``) are ignored.

Groups. Which ages form which class is data (:mod:`.age_groups`): ``scheme="thesis4"`` (the four
CGAN/CDCGAN/DCGAN classes), ``"cyclegan"`` (domains 17-23 and 47-53), ``"caae10"``, ``"decades"``,
a JSON file or ``(name, lo, hi)`` rows. The label of a face is the index of its group; faces in
no group are skipped and counted.

Pixels. Each JPEG is decoded with OpenCV (BGR -> RGB, or BGR -> grey with ``cv2.COLOR_BGR2GRAY``,
the ITU-R 601 luma) and resized to ``size x size``: ``cv2.INTER_AREA`` when shrinking (200 -> 100
or 32; a bilinear shrink would alias), ``cv2.INTER_LINEAR`` when enlarging (200 -> 256). The
thesis states neither the grey conversion nor the interpolation (spec section 4). Images stay
uint8 ``[N, size, size, C]`` (C = 1 grey, 3 colour); :func:`gan_repro.data.image_stream` scales
them to [-1, 1] with ``(x - 127.5) / 127.5`` (thesis L794-798). :data:`VARIANTS` holds the
settings of each model.

A damaged JPEG stops the load with :class:`CorruptDataError` naming the file and the fix
(``on_corrupt="skip"`` counts it in ``report["unreadable"]`` instead). ``source``:

``"local"``   the folder in the data dir (``data_dir``, else ``$GAN_REPRO_DATA``): the dir itself
              or a ``UTKFace/``, ``utkface/``, ``images/``, ``utkface/images/`` or
              ``crop_part1/`` subfolder;
``"auto"``    the same (there is no TFDS UTKFace); a missing folder raises
              :class:`DatasetMissingError` saying where to get UTKFace and where to put it;
``"bundled"`` the ~200 real faces in ``data/samples/utkface`` (a sample, never picked by auto).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadOptionError, CorruptDataError, DatasetMissingError, check_choice
from .age_groups import AGE_SCHEMES, PUBLISHED_COUNTS, AgeScheme, get_scheme, group_ages
from .sources import Domain, bundled_samples_dir, resolve_data_dir

UTKFACE_URL = "https://susanqq.github.io/UTKFace/"
SOURCES = ("auto", "local", "bundled")
#: Folders tried, in order, inside the data dir (the data dir itself first).
SUBFOLDERS = ("", "UTKFace", "utkface", "images", "utkface/images", "UTKFace/images", "crop_part1")
MAX_AGE = 150
GENDERS = ("male", "female")
RACES = ("White", "Black", "Asian", "Indian", "Others")
INTERPOLATIONS = {
    "area": cv2.INTER_AREA,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "nearest": cv2.INTER_NEAREST,
}
#: load_utkface settings per model of the face-aging thesis (spec 000 sections 0 and 4).
VARIANTS: dict[str, dict] = {
    "dcgan": {"scheme": "thesis4", "size": 100, "grey": True},
    "cgan": {"scheme": "thesis4", "size": 100, "grey": True},
    "cdcgan": {"scheme": "thesis4", "size": 32, "grey": False},
    "cyclegan": {"scheme": "cyclegan", "size": 256, "grey": False},
}
_JPEG_SUFFIXES = (".jpg", ".jpeg")
_INTERP_NOTE = {"auto": "cv2 INTER_AREA to shrink / INTER_LINEAR to enlarge"}
_HOW_TO_GET = (
    f"Get the 'Aligned&Cropped Faces' archive (23,708 files age_gender_race_date.jpg.chip.jpg, "
    f"unpacking to a UTKFace/ folder) from {UTKFACE_URL}, unpack it and pass its folder, or "
    "the folder holding it, as --data-dir (data_dir=...) or $GAN_REPRO_DATA; for a smoke run "
    "use source='bundled' (about 200 real faces in data/samples/utkface)."
)


# ----------------------------------------------------------------------------------------- names
@dataclass(frozen=True)
class FaceRecord:
    """One UTKFace file: its labels from the name (gender/race None when not in the name)."""

    path: Path
    age: int
    gender: int | None
    race: int | None
    date: str | None = None

    @property
    def partial(self) -> bool:
        return self.gender is None or self.race is None


def _is_jpeg(name: str) -> bool:
    return name.lower().endswith(_JPEG_SUFFIXES)


def parse_utkface_name(name) -> FaceRecord | None:
    """Labels from a UTKFace file name (str or Path); None when the name is malformed.

    ``'25_1_2_20170116174525125.jpg.chip.jpg'`` -> age 25, gender 1, race 2. The fields are the
    ``_``-separated parts before the first ``.``. See the module docstring for partial names.
    """
    path = Path(name)
    if not _is_jpeg(path.name):
        return None
    fields = path.name.split(".")[0].split("_")
    if len(fields) not in (3, 4) or not all(f.isascii() and f.isdigit() for f in fields):
        return None
    age = int(fields[0])
    if age > MAX_AGE:
        return None
    if len(fields) == 3:  # one field is missing and which one cannot be told
        return FaceRecord(path, age, None, None, fields[2])
    gender, race = int(fields[1]), int(fields[2])
    return FaceRecord(
        path,
        age,
        gender if gender < len(GENDERS) else None,
        race if race < len(RACES) else None,
        fields[3],
    )


def scan_utkface(folder) -> tuple[list[FaceRecord], dict]:
    """Parse every ``.jpg`` name in ``folder`` (not recursive), sorted by name.

    Returns the records (parsed and partial ones) and a report: ``folder``, ``files`` (JPEG
    files looked at), ``parsed`` (count of complete names), ``partial`` and ``malformed`` (lists
    of names), ``ignored`` (other files). ``files == parsed + len(partial) + len(malformed)``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetMissingError(f"UTKFace folder {folder} does not exist. {_HOW_TO_GET}")
    names = sorted(e.name for e in os.scandir(folder) if e.is_file())
    records, partial, malformed, ignored = [], [], [], []
    for name in names:
        if name.startswith(".") or not _is_jpeg(name):
            ignored.append(name)
            continue
        rec = parse_utkface_name(folder / name)
        if rec is None:
            malformed.append(name)
            continue
        records.append(rec)
        if rec.partial:
            partial.append(name)
    report = {
        "folder": str(folder),
        "files": len(names) - len(ignored),
        "parsed": len(records) - len(partial),
        "partial": partial,
        "malformed": malformed,
        "ignored": ignored,
    }
    return records, report


def group_counts(records, scheme="thesis4") -> dict[str, int]:
    """Number of ``records`` (FaceRecords or ages) in each group of ``scheme``, in order."""
    return group_ages((r if isinstance(r, int | np.integer) else r.age for r in records), scheme)


# ---------------------------------------------------------------------------------- locations
def _has_jpegs(folder: Path) -> bool:
    try:
        with os.scandir(folder) as it:
            return any(e.is_file() and _is_jpeg(e.name) and e.name[0].isdigit() for e in it)
    except OSError:
        return False


def find_utkface_folder(data_dir=None) -> Path | None:
    """The UTKFace image folder in the data dir (see :data:`SUBFOLDERS`), or None."""
    root = resolve_data_dir(data_dir)
    if root is None:
        return None
    for sub in SUBFOLDERS:
        folder = root / sub if sub else root
        if folder.is_dir() and _has_jpegs(folder):
            return folder
    return None


def _resolve_folder(data_dir, source: str) -> tuple[Path, str]:
    if source == "bundled":
        folder = bundled_samples_dir() / "utkface"
        if not _has_jpegs(folder):
            raise DatasetMissingError(f"the bundled UTKFace sample {folder} is missing or empty")
        return folder, "BUNDLED SAMPLE data/samples/utkface (real faces, NOT the full dataset)"
    root = resolve_data_dir(data_dir)
    folder = find_utkface_folder(root)
    if folder is None:
        if root is None:
            where = "no data dir is set (pass --data-dir / data_dir=... or set GAN_REPRO_DATA)"
        else:
            tried = ", ".join(str(root / s) if s else str(root) for s in SUBFOLDERS)
            where = f"no age_gender_race_date .jpg files in any of: {tried}"
        raise DatasetMissingError(f"UTKFace not found: {where}. {_HOW_TO_GET}")
    return folder, f"local folder {folder}"


# --------------------------------------------------------------------------------------- pixels
def _decode(path: Path, size: int, grey: bool, interpolation: str) -> tuple[np.ndarray, str]:
    """One JPEG -> (uint8 [size, size, C], its 'HxW' on disk); CorruptDataError if damaged."""
    fix = (
        "delete or replace this file (re-extract it from the UTKFace archive), or load with "
        "on_corrupt='skip'"
    )
    try:
        raw = path.read_bytes()
    except OSError as ex:
        raise CorruptDataError(f"{path} cannot be read ({ex}); {fix}.") from ex
    if raw[:2] != b"\xff\xd8":
        raise CorruptDataError(f"{path} is not a JPEG file (no start-of-image marker); {fix}.")
    if not raw.rstrip(b"\x00\r\n\t ").endswith(b"\xff\xd9"):
        raise CorruptDataError(f"{path} is truncated (no JPEG end-of-image marker); {fix}.")
    img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.ndim != 3 or min(img.shape[:2]) < 1:
        raise CorruptDataError(f"{path} cannot be decoded as a JPEG image; {fix}.")
    shape = f"{img.shape[0]}x{img.shape[1]}"
    img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY if grey else cv2.COLOR_BGR2RGB)
    if img.shape[:2] != (size, size):
        if interpolation == "auto":
            flag = cv2.INTER_AREA if max(img.shape[:2]) > size else cv2.INTER_LINEAR
        else:
            flag = INTERPOLATIONS[interpolation]
        img = cv2.resize(img, (size, size), interpolation=flag)
    return img.reshape(size, size, 1 if grey else 3), shape


# ------------------------------------------------------------------------------------- dataset
@dataclass(frozen=True, eq=False, repr=False)
class FaceDomain(Domain):
    """A loaded UTKFace selection: a :class:`Domain` plus per-face labels and the load report.

    images uint8 [N,size,size,C]; labels int64 [N] = group index in ``group_names``; ages int64;
    genders / races int64 with -1 where the name did not give them; names: the file names.
    """

    ages: np.ndarray
    genders: np.ndarray
    races: np.ndarray
    names: np.ndarray
    group_names: tuple[str, ...]
    report: dict

    per_example = (*Domain.per_example, "ages", "genders", "races", "names")

    def __post_init__(self):
        super().__post_init__()
        n = len(self.images)
        for field in self.per_example[2:]:
            if len(getattr(self, field)) != n:
                raise CorruptDataError(f"{self.name}: {n} images but {field} has another length")

    def __repr__(self) -> str:
        counts = np.bincount(self.labels, minlength=len(self.group_names))
        groups = ", ".join(f"{g}: {c}" for g, c in zip(self.group_names, counts, strict=True))
        return (
            f"FaceDomain(name={self.name!r}, images={self.images.dtype}"
            f"{list(self.images.shape)}, groups={{{groups}}}, provenance={self.provenance!r})"
        )

    def group(self, which) -> FaceDomain:
        """The faces of one group, by name or index (e.g. the CycleGAN domain ``"17-23"``)."""
        if isinstance(which, str):
            check_choice("group", which, self.group_names)
            index = self.group_names.index(which)
        else:
            index = int(which)
            check_choice("group", index, range(len(self.group_names)))
        gname = self.group_names[index]
        return self.subset(
            self.labels == index, name=f"{self.name}:{gname}", note=f"group {gname} only"
        )

    def counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.group_names))
        return {g: int(c) for g, c in zip(self.group_names, counts, strict=True)}


def load_utkface(
    data_dir=None,
    source: str = "auto",
    scheme="thesis4",
    size: int = 100,
    grey: bool = True,
    *,
    interpolation: str = "auto",
    on_corrupt: str = "raise",
    workers: int | None = None,
) -> FaceDomain:
    """The UTKFace faces of the groups of ``scheme`` as uint8 [N,size,size,C] + group labels.

    ``grey`` True gives C=1 (the DCGAN/CGAN 100x100x1), False C=3 RGB (CDCGAN 32x32x3, CycleGAN
    256x256x3); see :data:`VARIANTS`. ``interpolation``: "auto" (area to shrink, linear to
    enlarge), "area", "linear", "cubic", "nearest". ``on_corrupt``: "raise"
    (:class:`CorruptDataError` naming the file) or "skip" (listed in ``report["unreadable"]``).
    Faces in no group are skipped (``report["outside_scheme"]``). Order: sorted file names.
    """
    check_choice("source", source, SOURCES)
    check_choice("interpolation", interpolation, ("auto", *INTERPOLATIONS))
    check_choice("on_corrupt", on_corrupt, ("raise", "skip"))
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise BadOptionError(f"size={size!r} must be a positive integer (pixels per side)")
    size = int(size)
    s: AgeScheme = get_scheme(scheme)
    folder, what = _resolve_folder(data_dir, source)
    records, report = scan_utkface(folder)
    labelled = [(r, s.label_of(r.age)) for r in records]
    chosen = [(r, lab) for r, lab in labelled if lab is not None]

    def decode(item):
        path = item[0].path
        try:
            return _decode(path, size, grey, interpolation)
        except CorruptDataError:
            if on_corrupt == "raise":
                raise
            return None

    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # cv2 releases the GIL
        decoded = list(pool.map(decode, chosen))
    unreadable = [r.path.name for (r, _), img in zip(chosen, decoded, strict=True) if img is None]
    keep = [(rl, out) for rl, out in zip(chosen, decoded, strict=True) if out is not None]
    channels = 1 if grey else 3
    images = np.empty((len(keep), size, size, channels), np.uint8)
    for i, (_, (img, _)) in enumerate(keep):
        images[i] = img
    recs = [r for (r, _), _ in keep]
    labels = np.array([lab for (_, lab), _ in keep], np.int64)
    sizes = Counter(shape for _, (_, shape) in keep)
    report = {
        **report,
        "scheme": s.describe(),
        "outside_scheme": len(records) - len(chosen),
        "unreadable": unreadable,
        "kept": len(keep),
        "source_sizes": dict(sorted(sizes.items())),
    }
    counts = np.bincount(labels, minlength=len(s))
    per_group = ", ".join(f"{g} {c}" for g, c in zip(s.names, counts, strict=True))
    colour = "grey (BGR2GRAY)" if grey else "RGB"
    provenance = (
        f"UTKFace {what}: {report['files']} jpgs ({report['parsed']} parsed, "
        f"{len(report['partial'])} partial, {len(report['malformed'])} malformed); scheme "
        f"{s.name} kept {len(keep)} [{per_group}], {report['outside_scheme']} outside the groups"
        + (f", {len(unreadable)} unreadable skipped" if unreadable else "")
        + f"; {size}x{size} {colour}, resize {_INTERP_NOTE.get(interpolation, interpolation)}"
    )
    return FaceDomain(
        name="utkface",
        images=images,
        labels=labels,
        provenance=provenance,
        ages=np.array([r.age for r in recs], np.int64),
        genders=np.array([-1 if r.gender is None else r.gender for r in recs], np.int64),
        races=np.array([-1 if r.race is None else r.race for r in recs], np.int64),
        names=np.array([r.path.name for r in recs], dtype=str),
        group_names=s.names,
        report=report,
    )


# ------------------------------------------------------------------------------------------ CLI
def utkface_stats(data_dir=None, source: str = "auto", schemes=None) -> dict:
    """Counts of a UTKFace folder without decoding: the scan report plus counts per scheme."""
    check_choice("source", source, SOURCES)
    folder, what = _resolve_folder(data_dir, source)
    records, report = scan_utkface(folder)
    schemes = list(AGE_SCHEMES) if schemes is None else list(schemes)
    ages = [r.age for r in records]
    full = [r for r in records if not r.partial]
    stats = {
        **report,
        "what": what,
        "age_min": min(ages, default=None),
        "age_max": max(ages, default=None),
        "age_mean": round(float(np.mean(ages)), 2) if ages else None,
        "gender": {g: sum(r.gender == i for r in records) for i, g in enumerate(GENDERS)},
        "race": {g: sum(r.race == i for r in records) for i, g in enumerate(RACES)},
        "decades_of_parsed": group_counts(full, "decades"),
        "schemes": {},
    }
    for sc in schemes:
        s = get_scheme(sc)
        counts = group_counts(records, s)
        stats["schemes"][s.name] = {
            "groups": s.describe(),
            "counts": counts,
            "total": sum(counts.values()),
            "published_full_set": PUBLISHED_COUNTS.get(s.name),
        }
    return stats


def _print_stats(st: dict) -> None:
    print(f"UTKFace: {st['what']}")
    print(
        f"  files {st['files']}: parsed {st['parsed']}, partial {len(st['partial'])}, "
        f"malformed {len(st['malformed'])}; other files ignored {len(st['ignored'])}"
    )
    for key in ("partial", "malformed"):
        if st[key]:
            more = f" ... (+{len(st[key]) - 10})" if len(st[key]) > 10 else ""
            print(f"  {key}: " + ", ".join(st[key][:10]) + more)
    print(f"  ages {st['age_min']}-{st['age_max']}, mean {st['age_mean']}")
    print("  gender: " + ", ".join(f"{k} {v}" for k, v in st["gender"].items()))
    print("  race: " + ", ".join(f"{k} {v}" for k, v in st["race"].items()))
    for name, sc in st["schemes"].items():
        counts = " / ".join(f"{k}: {v}" for k, v in sc["counts"].items())
        print(f"  scheme {name}: {counts}  (total {sc['total']})")
        if sc["published_full_set"]:
            pub = " / ".join(str(v) for v in sc["published_full_set"].values())
            print(f"      thesis, full 23,708-image set: {pub}")


def stats_main(argv=None) -> int:
    """``gan-repro data stats utkface [--data-dir D] [--source S] [--scheme S]... [--json]``.

    ``argv`` is what follows ``data stats`` (the leading ``utkface`` may be left out). Prints
    the file counts (parsed / partial / malformed) and the counts per group of every scheme
    (or of the ``--scheme`` ones: a name from AGE_SCHEMES or a .json file of [name, lo, hi]).
    """
    p = argparse.ArgumentParser(
        prog="gan-repro data stats", description="UTKFace counts per age group"
    )
    p.add_argument("dataset", nargs="?", default="utkface", choices=["utkface"])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--source", default="auto", help="auto | local | bundled")
    p.add_argument(
        "--scheme",
        action="append",
        default=None,
        help=f"age scheme ({', '.join(AGE_SCHEMES)}, or a .json file); repeatable; default all",
    )
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = p.parse_args(argv)
    st = utkface_stats(args.data_dir, args.source, args.scheme)
    if args.json:
        print(json.dumps(st, indent=2))
    else:
        _print_stats(st)
    return 0
