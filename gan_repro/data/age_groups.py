"""Age-grouping schemes for face datasets (UTKFace): data, not code.

A scheme is an ordered list of named, half-open age intervals ``[lo, hi)`` (``hi=None``: no upper
bound). The position of a group in its scheme is the class label. Intervals of one scheme never
overlap; ages outside every interval belong to no group (loaders skip them and count them).

To add a scheme, add a row to :data:`AGE_SCHEMES`, or pass the rows themselves (a list of
``(name, lo, hi)``) or a JSON file holding such a list wherever a ``scheme`` is taken.

Sources (spec 000, sections 1.3, 4 and 8):

``thesis4``   the thesis's four CGAN/CDCGAN/DCGAN classes, printed "0-10, 20-30, 50-60, 80-116".
              Only half-open [0,10), [20,30), [50,60), [80,117) agree with its counts on the full
              23,708-image set: 3062 / 7344 / 2299 / 673 = 13,378 (spec section 8, item 8).
``cyclegan``  the CycleGAN domains A = ages 17-23 and B = 47-53, inclusive (1942 / 1462 on the
              full set; the thesis's total "3403" is one short of their sum, section 8 item 6).
``caae10``    the ten groups of CAAE (Zhang, Song, Qi, CVPR 2017, the UTKFace paper):
              0-5, 6-10, 11-15, 16-20, 21-30, 31-40, 41-50, 51-60, 61-70, 71+ (inclusive ages).
``decades``   0-9, 10-19, ..., 80-89, 90+ (for histograms; not used by a model).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadOptionError

#: name -> [(group name, lo, hi)], ages lo <= age < hi; hi None = open-ended.
AGE_SCHEMES: dict[str, list[tuple[str, int, int | None]]] = {
    "thesis4": [("0-9", 0, 10), ("20-29", 20, 30), ("50-59", 50, 60), ("80-116", 80, 117)],
    "cyclegan": [("17-23", 17, 24), ("47-53", 47, 54)],
    "caae10": [
        ("0-5", 0, 6),
        ("6-10", 6, 11),
        ("11-15", 11, 16),
        ("16-20", 16, 21),
        ("21-30", 21, 31),
        ("31-40", 31, 41),
        ("41-50", 41, 51),
        ("51-60", 51, 61),
        ("61-70", 61, 71),
        ("71+", 71, None),
    ],
    "decades": [
        ("0-9", 0, 10),
        ("10-19", 10, 20),
        ("20-29", 20, 30),
        ("30-39", 30, 40),
        ("40-49", 40, 50),
        ("50-59", 50, 60),
        ("60-69", 60, 70),
        ("70-79", 70, 80),
        ("80-89", 80, 90),
        ("90+", 90, None),
    ],
}

#: Counts the thesis reports on the full UTKFace "Aligned&Cropped" set (23,708 images), for
#: comparison with what a loader finds (spec 000 sections 1.3 and 4, L858, L918-926).
PUBLISHED_COUNTS: dict[str, dict[str, int]] = {
    "thesis4": {"0-9": 3062, "20-29": 7344, "50-59": 2299, "80-116": 673},
    "cyclegan": {"17-23": 1942, "47-53": 1462},
}


@dataclass(frozen=True)
class AgeGroup:
    """Ages ``lo <= age < hi`` (``hi`` None: no upper bound)."""

    name: str
    lo: int
    hi: int | None

    def __contains__(self, age: int) -> bool:
        return self.lo <= age and (self.hi is None or age < self.hi)

    def __str__(self) -> str:
        return f"{self.name} [{self.lo}, {'inf' if self.hi is None else self.hi})"


@dataclass(frozen=True)
class AgeScheme:
    """An ordered tuple of non-overlapping :class:`AgeGroup`; a group's index is its label."""

    name: str
    groups: tuple[AgeGroup, ...]

    def __post_init__(self):
        _validate(self.name, self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.groups)

    def label_of(self, age: int) -> int | None:
        """Index of the group holding ``age``, or None when no group does."""
        for i, g in enumerate(self.groups):
            if age in g:
                return i
        return None

    def describe(self) -> str:
        return f"{self.name}: " + ", ".join(str(g) for g in self.groups)


def _validate(name: str, groups: Sequence[AgeGroup]) -> None:
    if not groups:
        raise BadOptionError(f"age scheme {name!r} has no groups")
    seen = set()
    for g in groups:
        if not isinstance(g.lo, int) or (g.hi is not None and not isinstance(g.hi, int)):
            raise BadOptionError(f"age scheme {name!r}: group {g.name!r} bounds must be integers")
        if g.lo < 0 or (g.hi is not None and g.hi <= g.lo):
            raise BadOptionError(
                f"age scheme {name!r}: group {g.name!r} [{g.lo}, {g.hi}) is empty or negative"
            )
        if g.name in seen:
            raise BadOptionError(f"age scheme {name!r}: group name {g.name!r} is used twice")
        seen.add(g.name)
    ordered = sorted(groups, key=lambda g: g.lo)
    for a, b in zip(ordered[:-1], ordered[1:], strict=True):
        if a.hi is None or a.hi > b.lo:
            raise BadOptionError(
                f"age scheme {name!r}: groups {a} and {b} overlap; an age must have one label"
            )


def _from_rows(name: str, rows: Iterable) -> AgeScheme:
    groups = []
    for row in rows:
        try:
            gname, lo, hi = row
        except (TypeError, ValueError) as ex:
            raise BadOptionError(
                f"age scheme {name!r}: {row!r} is not a (name, lo, hi) row"
            ) from ex
        groups.append(AgeGroup(str(gname), lo, hi))
    return AgeScheme(name, tuple(groups))


def get_scheme(scheme) -> AgeScheme:
    """An :class:`AgeScheme` from a name in :data:`AGE_SCHEMES`, a JSON file, or rows.

    ``scheme`` may be an AgeScheme (returned as is), a registered name, the path of a JSON file
    holding ``[[name, lo, hi], ...]`` (``hi`` null = open-ended) or ``{"name": ..., "groups":
    [...]}``, or a sequence of ``(name, lo, hi)`` rows.
    """
    if isinstance(scheme, AgeScheme):
        return scheme
    if isinstance(scheme, str | Path):
        if str(scheme) in AGE_SCHEMES:
            return _from_rows(str(scheme), AGE_SCHEMES[str(scheme)])
        path = Path(scheme)
        if path.suffix.lower() == ".json" and path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as ex:
                raise BadOptionError(f"age scheme file {path} is not valid JSON: {ex}") from ex
            if isinstance(data, dict):
                return _from_rows(str(data.get("name", path.stem)), data.get("groups", []))
            return _from_rows(path.stem, data)
        listed = ", ".join(repr(k) for k in AGE_SCHEMES)
        raise BadOptionError(
            f"scheme={str(scheme)!r} is neither a known age scheme ({listed}) nor a .json file "
            "of [name, lo, hi] rows"
        )
    return _from_rows("custom", scheme)


def group_ages(ages: Iterable[int], scheme) -> dict[str, int]:
    """Count ``ages`` per group of ``scheme`` (every group present, in scheme order)."""
    s = get_scheme(scheme)
    counts = dict.fromkeys(s.names, 0)
    for age in ages:
        label = s.label_of(int(age))
        if label is not None:
            counts[s.groups[label].name] += 1
    return counts
