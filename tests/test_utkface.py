"""UTKFace source: name parsing, age schemes, the real crop_part1 copy, loading, errors, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from gan_repro.data import image_stream
from gan_repro.data.age_groups import AGE_SCHEMES, PUBLISHED_COUNTS, get_scheme, group_ages
from gan_repro.data.utkface import (
    UTKFACE_URL,
    VARIANTS,
    FaceRecord,
    find_utkface_folder,
    group_counts,
    load_utkface,
    parse_utkface_name,
    scan_utkface,
    stats_main,
    utkface_stats,
)
from gan_repro.errors import BadOptionError, CorruptDataError, DatasetMissingError

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "samples" / "utkface"
PARTIAL_NAMES = ["61_1_20170109142408075.jpg.chip.jpg", "61_3_20170109150557335.jpg.chip.jpg"]

# The shared copy of UTKFace crop_part1 (9,780 faces); README figures: decades of the 9,778
# four-field names, and their gender counts. The two partial names are both age 61, so counting
# them too makes the 60-69 decade 656.
README_DECADES = [2946, 1218, 1517, 1034, 675, 938, 654, 379, 318, 99]
README_GENDER = [4372, 5406]
# Computed on the shared copy with every name whose age parses (9,780) and pinned here.
SHARED_THESIS4 = {"0-9": 2946, "20-29": 1517, "50-59": 938, "80-116": 417}
SHARED_CYCLEGAN = {"17-23": 812, "47-53": 666}
SHARED_CAAE10 = [2311, 775, 524, 657, 1523, 1010, 695, 970, 572, 743]
# The bundled sample (202 faces, data/samples/utkface/README.md).
BUNDLED_THESIS4 = {"0-9": 40, "20-29": 48, "50-59": 53, "80-116": 40}
BUNDLED_CYCLEGAN = {"17-23": 38, "47-53": 42}


@pytest.fixture(scope="module")
def utk_images(shared_data) -> Path:
    folder = shared_data / "utkface" / "images"
    if not folder.is_dir():
        pytest.skip(f"UTKFace subset not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def utk_scan(utk_images):
    return scan_utkface(utk_images)


@pytest.fixture()
def no_data_env(monkeypatch):
    monkeypatch.delenv("GAN_REPRO_DATA", raising=False)
    monkeypatch.delenv("GAN_REPRO_SAMPLES", raising=False)


def _copy(names, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(BUNDLED / n, dest / n)
    return dest


# ------------------------------------------------------------------------------------- names
def test_parse_complete_names():
    r = parse_utkface_name("25_1_2_20170116174525125.jpg.chip.jpg")
    assert r == FaceRecord(
        Path("25_1_2_20170116174525125.jpg.chip.jpg"), 25, 1, 2, "20170116174525125"
    )
    assert not r.partial
    old = parse_utkface_name(Path("/x/110_0_0_20170112213500903.jpg.chip.jpg"))
    assert (old.age, old.gender, old.race, old.path.parent) == (110, 0, 0, Path("/x"))
    assert parse_utkface_name("1_0_4_20161221193016140.jpg").age == 1  # names without .chip.jpg
    assert parse_utkface_name("9_1_3_2017.JPEG").race == 3


def test_parse_partial_names_keep_the_age():
    r = parse_utkface_name(PARTIAL_NAMES[0])
    assert (r.age, r.gender, r.race, r.date, r.partial) == (
        61,
        None,
        None,
        "20170109142408075",
        True,
    )
    assert parse_utkface_name(PARTIAL_NAMES[1]).age == 61
    bad_gender = parse_utkface_name("40_3_1_20170101.jpg.chip.jpg")
    assert (bad_gender.age, bad_gender.gender, bad_gender.race) == (40, None, 1)
    assert parse_utkface_name("40_0_7_20170101.jpg.chip.jpg").race is None


@pytest.mark.parametrize(
    "name",
    [
        "garbage.jpg",
        "x_0_0_20170101.jpg.chip.jpg",
        "_0_0_20170101.jpg.chip.jpg",
        "25__0_20170101.jpg.chip.jpg",
        "25_0.jpg.chip.jpg",
        "25_0_0_1_20170101.jpg.chip.jpg",
        "151_0_0_20170101.jpg.chip.jpg",
        "-3_0_0_20170101.jpg.chip.jpg",
        "25_0_0_20170101.png",
        "25_0_0_20170101.jpg.txt",
        "２５_0_0_20170101.jpg",  # full-width digits are not an age
        "",
    ],
)
def test_parse_malformed_names(name):
    assert parse_utkface_name(name) is None


def test_scan_mixed_folder(tmp_path):
    good = ["1_0_0_20170101000000001.jpg.chip.jpg", "80_1_4_20170101000000002.jpg.chip.jpg"]
    bad = ["oops.jpg", "25_0_0_1_2.jpg.chip.jpg"]
    partial = ["61_1_20170109142408075.jpg.chip.jpg"]
    other = ["README.txt", ".DS_Store", "._1_0_0_20170101000000001.jpg.chip.jpg"]
    for n in good + bad + partial + other:
        (tmp_path / n).write_bytes(b"not decoded by a scan")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "2_0_0_20170101.jpg").write_bytes(b"")  # not recursive
    records, report = scan_utkface(tmp_path)
    assert [r.path.name for r in records] == sorted(good + partial)
    assert report["files"] == 5 and report["parsed"] == 2
    assert report["partial"] == partial and report["malformed"] == sorted(bad)
    assert sorted(report["ignored"]) == sorted(other)
    assert report["files"] == report["parsed"] + len(report["partial"]) + len(report["malformed"])


# ----------------------------------------------------------------------------------- schemes
def test_thesis_and_cyclegan_boundaries():
    t4, cg = get_scheme("thesis4"), get_scheme("cyclegan")
    expect = {0: 0, 9: 0, 10: None, 19: None, 20: 1, 29: 1, 30: None, 50: 2, 59: 2, 60: None}
    expect.update({79: None, 80: 3, 116: 3, 117: None})
    assert {a: t4.label_of(a) for a in expect} == expect
    assert [cg.label_of(a) for a in (16, 17, 23, 24, 46, 47, 53, 54)] == [
        None, 0, 0, None, None, 1, 1, None,
    ]  # fmt: skip
    assert list(PUBLISHED_COUNTS["thesis4"].values()) == [3062, 7344, 2299, 673]
    assert sum(PUBLISHED_COUNTS["thesis4"].values()) == 13378
    assert list(PUBLISHED_COUNTS["cyclegan"].values()) == [1942, 1462]


@pytest.mark.parametrize("name", ["caae10", "decades"])
def test_complete_schemes_label_every_age_once(name):
    s = get_scheme(name)
    labels = [s.label_of(a) for a in range(0, 151)]
    assert None not in labels and labels == sorted(labels)
    assert len(s) == 10


def test_custom_schemes(tmp_path):
    rows = [("young", 0, 30), ("old", 60, None)]
    assert group_ages([5, 29, 30, 59, 60, 116], rows) == {"young": 2, "old": 2}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"name": "two", "groups": [["a", 0, 10], ["b", 10, 20]]}))
    s = get_scheme(str(path))
    assert (s.name, s.names) == ("two", ("a", "b"))
    with pytest.raises(BadOptionError, match="overlap"):
        get_scheme([("a", 0, 20), ("b", 10, 30)])
    with pytest.raises(BadOptionError, match="overlap"):
        get_scheme([("a", 0, None), ("b", 10, 30)])
    with pytest.raises(BadOptionError, match="empty"):
        get_scheme([("a", 10, 10)])
    with pytest.raises(BadOptionError, match="thesis4"):
        get_scheme("thesis5")
    assert set(AGE_SCHEMES) >= {"thesis4", "cyclegan", "caae10"}


# -------------------------------------------------------------------------- the real sample
def test_shared_copy_counts_match_its_readme(utk_scan):
    records, report = utk_scan
    assert report["files"] == 9780 and len(records) == 9780
    assert report["parsed"] == 9778 and report["malformed"] == [] and report["ignored"] == []
    assert report["partial"] == PARTIAL_NAMES
    full = [r for r in records if not r.partial]
    assert list(group_counts(full, "decades").values()) == README_DECADES
    assert list(group_counts(records, "decades").values())[6] == 656
    assert np.bincount([r.gender for r in full]).tolist() == README_GENDER
    ages = [r.age for r in records]
    assert (min(ages), max(ages), round(float(np.mean(ages)), 1)) == (1, 110, 29.4)


def test_shared_copy_group_counts(utk_scan):
    records, _ = utk_scan
    assert group_counts(records, "thesis4") == SHARED_THESIS4
    assert group_counts(records, "cyclegan") == SHARED_CYCLEGAN
    assert list(group_counts(records, "caae10").values()) == SHARED_CAAE10
    assert group_counts([r.age for r in records], "thesis4") == SHARED_THESIS4


def test_folder_resolution(shared_data, utk_images, tmp_path, monkeypatch):
    assert find_utkface_folder(shared_data) == utk_images  # <root>/utkface/images
    assert find_utkface_folder(utk_images) == utk_images
    monkeypatch.setenv("GAN_REPRO_DATA", str(shared_data))
    assert find_utkface_folder() == utk_images
    faces = _copy(PARTIAL_NAMES, tmp_path / "UTKFace")
    assert find_utkface_folder(tmp_path) == faces


def test_load_thesis4_grey_100(shared_data):
    d = load_utkface(shared_data, scheme="thesis4", size=100, grey=True)
    assert d.images.shape == (5818, 100, 100, 1) and d.images.dtype == np.uint8
    assert d.labels.dtype == np.int64 and d.counts() == SHARED_THESIS4
    assert d.report["outside_scheme"] == 9780 - 5818 and d.report["source_sizes"] == {
        "200x200": 5818
    }
    assert np.all(d.ages[d.labels == 3] >= 80) and np.all(d.ages[d.labels == 0] < 10)
    assert "9780 jpgs" in d.provenance and "2 partial" in d.provenance
    batch = next(iter(image_stream(d.images, batch_size=16, seed=3)))
    x = batch.numpy()
    assert x.shape == (16, 100, 100, 1) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.5 and x.max() > 0.5


def test_load_cyclegan_colour_32(shared_data):
    d = load_utkface(shared_data, **{**VARIANTS["cdcgan"], "scheme": "cyclegan"})
    assert d.images.shape == (1478, 32, 32, 3) and d.counts() == SHARED_CYCLEGAN
    a, b = d.group("17-23"), d.group(1)
    assert len(a) == 812 and len(b) == 666 and set(b.ages.tolist()) <= set(range(47, 54))
    assert a.names[0] == d.names[d.labels == 0][0] and "group 17-23 only" in a.provenance
    with pytest.raises(BadOptionError):
        d.group("30-39")
    x = next(iter(image_stream(d.images, batch_size=4, seed=0))).numpy()
    assert x.shape == (4, 32, 32, 3) and -1.0 <= x.min() and x.max() <= 1.0


def test_pixels_are_rgb_and_luma(tmp_path):
    names = ["17_0_0_20170110231210547.jpg.chip.jpg", PARTIAL_NAMES[0]]
    folder = _copy(names, tmp_path)
    rows = [("all", 0, None)]
    colour = load_utkface(folder, source="local", scheme=rows, size=200, grey=False)
    grey = load_utkface(folder, source="local", scheme=rows, size=200, grey=True)
    bgr = cv2.imread(str(folder / names[0]))
    np.testing.assert_array_equal(colour.images[0], cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    np.testing.assert_array_equal(grey.images[0, ..., 0], cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    assert colour.ages.tolist() == [17, 61] and colour.genders.tolist() == [0, -1]
    small = load_utkface(folder, source="local", scheme=rows, size=100, interpolation="area")
    want = cv2.resize(
        cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (100, 100), interpolation=cv2.INTER_AREA
    )
    np.testing.assert_array_equal(small.images[0, ..., 0], want)
    big = load_utkface(folder, source="local", scheme=rows, size=256, grey=False)
    assert big.images.shape == (2, 256, 256, 3)


# --------------------------------------------------------------------------------- bundled
def test_bundled_sample(no_data_env):
    d = load_utkface(source="bundled", scheme="thesis4", size=32, grey=False)
    assert d.counts() == BUNDLED_THESIS4 and d.images.shape == (181, 32, 32, 3)
    assert "BUNDLED SAMPLE" in d.provenance
    assert d.report["files"] == 202 and d.report["partial"] == PARTIAL_NAMES
    assert sorted(d.report["ignored"]) == ["MD5SUMS", "README.md"]
    cg = load_utkface(source="bundled", **VARIANTS["cyclegan"])
    assert cg.counts() == BUNDLED_CYCLEGAN and cg.images.shape == (80, 256, 256, 3)
    size = sum(p.stat().st_size for p in BUNDLED.glob("*.jpg"))
    assert size < 2.5e6


def test_auto_never_uses_the_bundled_sample(no_data_env):
    with pytest.raises(DatasetMissingError, match="no data dir is set") as info:
        load_utkface()
    assert UTKFACE_URL in str(info.value) and "bundled" in str(info.value)


# ----------------------------------------------------------------------------------- errors
def test_missing_folder(tmp_path, no_data_env):
    for source in ("auto", "local"):
        with pytest.raises(DatasetMissingError) as info:
            load_utkface(tmp_path / "nowhere", source=source)
        assert UTKFACE_URL in str(info.value) and str(tmp_path / "nowhere") in str(info.value)
    with pytest.raises(DatasetMissingError, match="susanqq"):
        scan_utkface(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetMissingError, match="UTKFace not found"):
        load_utkface(tmp_path / "empty")


def test_corrupt_jpgs_name_the_file(tmp_path):
    good = "17_0_0_20170110231210547.jpg.chip.jpg"
    folder = _copy([good], tmp_path)
    garbage = "25_0_0_20170101000000000.jpg.chip.jpg"
    (folder / garbage).write_bytes(b"\x00garbage" * 100)
    with pytest.raises(CorruptDataError, match=garbage) as info:
        load_utkface(folder, scheme="thesis4", size=32)
    assert "re-extract" in str(info.value)
    (folder / garbage).unlink()
    raw = (folder / good).read_bytes()
    cut = "22_1_0_20170101000000000.jpg.chip.jpg"
    (folder / cut).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorruptDataError, match=f"{cut} is truncated"):
        load_utkface(folder, scheme="thesis4", size=32)
    # a damaged file outside the scheme's groups is never decoded
    assert len(load_utkface(folder, scheme=[("teen", 13, 20)], size=32)) == 1
    skipped = load_utkface(folder, scheme="thesis4", size=32, on_corrupt="skip")
    assert skipped.report["unreadable"] == [cut] and len(skipped) == 0
    assert "1 unreadable skipped" in skipped.provenance


def test_bad_options(tmp_path):
    with pytest.raises(BadOptionError, match="source"):
        load_utkface(tmp_path, source="tfds")
    with pytest.raises(BadOptionError, match="size"):
        load_utkface(tmp_path, size=0)
    with pytest.raises(BadOptionError, match="interpolation"):
        load_utkface(tmp_path, interpolation="lanczos9")


# -------------------------------------------------------------------------------------- CLI
def test_stats_cli(shared_data, capsys):
    assert stats_main(["utkface", "--data-dir", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "files 9780: parsed 9778, partial 2, malformed 0" in out
    assert "scheme thesis4: 0-9: 2946 / 20-29: 1517 / 50-59: 938 / 80-116: 417" in out
    assert "scheme cyclegan: 17-23: 812 / 47-53: 666" in out
    assert "3062 / 7344 / 2299 / 673" in out and PARTIAL_NAMES[1] in out
    assert stats_main(["--source", "bundled", "--scheme", "cyclegan", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert list(st["schemes"]) == ["cyclegan"]
    assert st["schemes"]["cyclegan"]["counts"] == BUNDLED_CYCLEGAN
    assert utkface_stats(shared_data)["decades_of_parsed"] == dict(
        zip(get_scheme("decades").names, README_DECADES, strict=True)
    )


def test_cli_data_stats_prints_the_group_counts(shared_data, capsys):
    from gan_repro.cli import main

    assert main(["data", "stats", "utkface", "--data-dir", str(shared_data / "utkface")]) == 0
    out = capsys.readouterr().out
    assert "files 9780" in out and "20-29: 1517" in out and "17-23: 812" in out
    assert main(["data", "stats", "utkface", "--data-dir", "/nonexistent"]) == 2
    assert "susanqq.github.io/UTKFace" in capsys.readouterr().err
