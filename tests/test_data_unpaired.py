"""Unpaired image data of the CycleGAN-vs-UNIT experiment (spec 003 section 4): CycleGAN-layout
folders, TFDS cycle_gan/*, the CelebA attribute pair, and their registered datasets.

The folder tests build a trainA/trainB/testA/testB folder from real files of the shared data:
A = the 32 full-resolution CelebA faces (178x218), B = the 8 horse2zebra images (256x256)."""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from gan_repro.data.unpaired import (
    UnpairedSet,
    load_celeba_attribute,
    load_unpaired_folder,
    load_unpaired_tfds,
    prepare_image,
    read_celeba_attributes,
)
from gan_repro.errors import BadOptionError, CorruptDataError, DatasetMissingError

LAYOUT = "trainA/ trainB/ testA/ testB/"
# Blond_Hair is +1 in 1,452 of the 10,000 rows 000001-010000 of the shared list_attr_celeba.txt
# (14.5%; the full CelebA has about 14.9%). Counted once from the file and pinned here; the test
# also recounts it.
BLOND_IN_FIRST_10K = 1452


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _center_square(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    side = min(h, w)
    return img[(h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]


# --------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def celeba_dir(shared_data) -> Path:
    folder = shared_data / "celeba"
    if not (folder / "list_attr_celeba.txt").is_file():
        pytest.skip(f"CelebA subset not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def unpaired_root(shared_data, celeba_dir, tmp_path_factory) -> Path:
    """trainA/testA: 24/8 CelebA faces; trainB/testB: 6/2 horse2zebra images (copied)."""
    h2z = shared_data / "cyclegan" / "horse2zebra"
    faces = sorted((celeba_dir / "img_align_celeba").glob("*.jpg"))
    animals = sorted((h2z / "A_horse").glob("*.jpg")) + sorted((h2z / "B_zebra").glob("*.jpg"))
    if len(faces) != 32 or len(animals) != 8:
        pytest.skip("the shared CelebA / horse2zebra images are not all there")
    root = tmp_path_factory.mktemp("unpaired") / "faces2animals"
    # horse then zebra order: trainB = 4 horses + 2 zebras, testB = 2 zebras
    for split, files in (
        ("trainA", faces[:24]),
        ("testA", faces[24:]),
        ("trainB", animals[:6]),
        ("testB", animals[6:]),
    ):
        (root / split).mkdir(parents=True)
        for f in files:
            shutil.copy(f, root / split / f.name)
    return root


@pytest.fixture(scope="module")
def loaded(unpaired_root) -> UnpairedSet:
    return load_unpaired_folder(unpaired_root, size=32)


def _copy_root(root: Path, dest: Path) -> Path:
    shutil.copytree(root, dest)
    return dest


# ----------------------------------------------------------------------------------------- folder
def test_folder_shapes_names_record(loaded, unpaired_root):
    expected = {"trainA": 24, "trainB": 6, "testA": 8, "testB": 2}
    for split, n in expected.items():
        arr = loaded.split(split)
        assert arr.shape == (n, 32, 32, 3) and arr.dtype == np.uint8
        on_disk = sorted(p.name for p in (unpaired_root / split).iterdir())
        assert loaded.names[split] == on_disk
    assert loaded.train_a is loaded.split("trainA") and loaded.test_b is loaded.split("testB")
    rec = loaded.record
    assert json.loads(json.dumps(rec)) == rec  # JSON-able as it is
    assert rec["sizes"] == expected and rec["available"] == expected
    assert rec["requested_sizes"] == dict.fromkeys(expected)
    assert rec["source"] == "folder" and rec["root"] == str(unpaired_root)
    assert rec["name"] == "faces2animals" and rec["warnings"] == []
    assert rec["source_shapes"]["trainA"] == {"218x178": 24}
    assert rec["source_shapes"]["trainB"] == {"256x256": 6}
    assert rec["preparation"] == {
        "size": 32,
        "crop": "center",
        "resize": "cv2 INTER_AREA to shrink / INTER_LINEAR (bilinear) to enlarge",
        "colour": "RGB",
    }
    assert str(unpaired_root / "trainA") in rec["provenance"]["trainA"]
    assert "all 24 images" in rec["provenance"]["trainA"]


def test_center_crop_and_resize_by_hand(loaded, unpaired_root):
    face = unpaired_root / "trainA" / "000001.jpg"  # 178 wide, 218 high
    rgb = _rgb(face)
    assert rgb.shape == (218, 178, 3)
    square = rgb[20:198, 0:178]  # (218 - 178) // 2 = 20 rows off the top
    want = cv2.resize(square, (32, 32), interpolation=cv2.INTER_AREA)
    assert loaded.names["trainA"][0] == "000001.jpg"
    np.testing.assert_array_equal(loaded.train_a[0], want)
    np.testing.assert_array_equal(prepare_image(rgb, 32), want)
    # crop="none": the whole 178x218 face squeezed to a square
    whole = cv2.resize(rgb, (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(prepare_image(rgb, 32, crop="none"), whole)
    # enlarging is bilinear (INTER_LINEAR): a 256x256 horse to 300x300
    horse = unpaired_root / "trainB" / loaded.names["trainB"][0]
    big = _rgb(horse)
    up = cv2.resize(big, (300, 300), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(prepare_image(big, 300), up)
    np.testing.assert_array_equal(prepare_image(big, 256), big)  # already the size


def test_prepare_image_grey_rgba_and_bad_input():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (40, 60), dtype=np.uint8)
    out = prepare_image(grey, 16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    want = cv2.resize(grey[:, 10:50], (16, 16), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out[..., 0], want)
    np.testing.assert_array_equal(prepare_image(grey[..., None], 16), out)
    rgba = rng.integers(0, 256, (30, 30, 4), dtype=np.uint8)
    np.testing.assert_array_equal(prepare_image(rgba, 12), prepare_image(rgba[..., :3], 12))
    with pytest.raises(BadOptionError, match="crop="):
        prepare_image(grey, 16, crop="side")
    with pytest.raises(BadOptionError, match="uint8"):
        prepare_image(grey.astype(np.float32), 16)
    with pytest.raises(BadOptionError, match="size="):
        prepare_image(grey, 0)


def test_seeded_subset_reproducible(unpaired_root, loaded):
    got = load_unpaired_folder(unpaired_root, size=32, train_sizes=(10, 4), seed=7)
    assert got.train_a.shape == (10, 32, 32, 3) and got.train_b.shape == (4, 32, 32, 3)
    assert got.test_a.shape[0] == 8 and got.test_b.shape[0] == 2  # test sizes not asked
    index = np.sort(np.random.default_rng(7).choice(24, 10, replace=False))
    assert got.names["trainA"] == [loaded.names["trainA"][i] for i in index]
    assert got.names["trainA"] == sorted(got.names["trainA"])
    np.testing.assert_array_equal(got.train_a, loaded.train_a[index])
    again = load_unpaired_folder(unpaired_root, size=32, train_sizes=(10, 4), seed=7)
    assert again.names == got.names
    np.testing.assert_array_equal(again.train_b, got.train_b)
    other = load_unpaired_folder(unpaired_root, size=32, train_sizes=(10, 4), seed=8)
    assert other.names["trainA"] != got.names["trainA"]
    assert got.record["requested_sizes"] == {
        "trainA": 10,
        "trainB": 4,
        "testA": None,
        "testB": None,
    }
    assert "seeded subset (seed 7)" in got.record["provenance"]["trainA"]
    assert got.record["warnings"] == []
    one = load_unpaired_folder(unpaired_root, size=8, test_sizes=1, seed=7)  # one int: both
    assert one.test_a.shape[0] == 1 and one.test_b.shape[0] == 1


def test_sizes_above_available_use_all_with_warning(unpaired_root):
    got = load_unpaired_folder(
        unpaired_root, size=8, train_sizes=(5866, 3528), test_sizes=(100, None)
    )
    assert got.record["sizes"] == {"trainA": 24, "trainB": 6, "testA": 8, "testB": 2}
    warnings = got.record["warnings"]
    assert warnings == [
        "trainA holds 24 images, fewer than the 5,866 requested (the thesis's size): "
        "all 24 are used",
        "trainB holds 6 images, fewer than the 3,528 requested (the thesis's size): all 6 are used",
        "testA holds 8 images, fewer than the 100 requested: all 8 are used",
    ]


def test_bad_sizes_refused(unpaired_root):
    for bad in ((0, None), (1.5, 2), "many", (1, 2, 3), (True, None)):
        with pytest.raises(BadOptionError, match="train_sizes"):
            load_unpaired_folder(unpaired_root, size=8, train_sizes=bad)


def test_missing_folder_names_layout_and_selfie2anime(tmp_path, unpaired_root):
    missing = tmp_path / "selfie2anime"
    with pytest.raises(DatasetMissingError) as ex:
        load_unpaired_folder(missing)
    msg = str(ex.value)
    assert str(missing) in msg and LAYOUT in msg
    assert "selfie2anime" in msg and "github.com/taki0112/UGATIT" in msg
    assert "3,400 + 3,400 train, 100 + 100 test" in msg and "source: tfds" in msg
    # a split folder missing, or empty
    root = _copy_root(unpaired_root, tmp_path / "copy")
    shutil.rmtree(root / "testB")
    with pytest.raises(DatasetMissingError, match="testB is missing") as ex:
        load_unpaired_folder(root)
    assert LAYOUT in str(ex.value)
    (root / "testB").mkdir()
    (root / "testB" / "notes.txt").write_text("not an image")
    with pytest.raises(DatasetMissingError, match="holds no images"):
        load_unpaired_folder(root)


def test_corrupt_image_named(tmp_path, unpaired_root):
    root = _copy_root(unpaired_root, tmp_path / "copy")
    broken = root / "trainB" / "zz_broken.jpg"
    broken.write_bytes(b"this is not a jpeg at all" * 20)
    with pytest.raises(CorruptDataError, match="zz_broken.jpg") as ex:
        load_unpaired_folder(root, size=8)
    assert "delete or replace" in str(ex.value)
    # a truncated JPEG (the first half of a real one) is refused too, not half-decoded
    broken.unlink()
    real = root / "trainA" / "000001.jpg"
    cut = root / "trainA" / "000001_cut.JPG"  # suffix case does not matter
    cut.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    with pytest.raises(CorruptDataError, match="000001_cut.JPG.*truncated"):
        load_unpaired_folder(root, size=8)
    # bytes after the end-of-image marker are harmless (some cameras append data)
    cut.write_bytes(real.read_bytes() + b"appended after the end marker")
    got = load_unpaired_folder(root, size=8)
    np.testing.assert_array_equal(got.train_a[0], got.train_a[1])  # 000001 and its copy


# ------------------------------------------------------------------------------------------- TFDS
def test_tfds_cycle_gan_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        got = load_unpaired_tfds("horse2zebra", size=24, train_sizes=(4, None), seed=3)
    assert got.train_a.shape == (4, 24, 24, 3) and got.train_b.shape == (6, 24, 24, 3)
    assert got.test_a.shape == (6, 24, 24, 3) and got.test_b.shape == (6, 24, 24, 3)
    assert got.train_a.dtype == np.uint8
    assert got.record["source"] == "tfds" and got.record["root"] == "tfds:cycle_gan/horse2zebra"
    assert got.record["sizes"] == {"trainA": 4, "trainB": 6, "testA": 6, "testB": 6}
    assert all("trainA" in n for n in got.names["trainA"])  # TFDS ids name the split
    assert len(set(got.names["trainB"])) == 6
    assert json.loads(json.dumps(got.record)) == got.record
    with tfds.testing.mock_data(num_examples=6):
        again = load_unpaired_tfds("horse2zebra", size=24, train_sizes=(4, None), seed=3)
    assert again.names == got.names
    np.testing.assert_array_equal(again.train_a, got.train_a)


def test_tfds_refusals(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    with pytest.raises(BadOptionError, match="selfie2anime is not in TFDS"):
        load_unpaired_tfds("selfie2anime")
    with pytest.raises(BadOptionError, match="horse2zebra"):
        load_unpaired_tfds("photo2anime")

    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(DatasetMissingError) as ex:
        load_unpaired_tfds("apple2orange")
    msg = str(ex.value)
    assert "cycle_gan/apple2orange" in msg and "no route to host" in msg
    assert "internet" in msg and "tfds build" in msg and LAYOUT in msg


# ----------------------------------------------------------------------------------------- CelebA
@pytest.fixture(scope="module")
def celeba_pair(shared_data, celeba_dir) -> UnpairedSet:
    # the parent of celeba/ is given: the loader finds the subfolder
    return load_celeba_attribute(shared_data, size=32, max_train=(300, 150))


def _attr_column(celeba_dir: Path, attribute: str) -> tuple[dict[str, int], list[str]]:
    """The attribute's value per file, parsed here without the library."""
    lines = (celeba_dir / "list_attr_celeba.txt").read_text().splitlines()
    names = lines[1].split()
    col = names.index(attribute) + 1
    return {f[0]: int(f[col]) for f in (ln.split() for ln in lines[2:]) if f}, names


def test_celeba_blond_counts_from_the_file(celeba_pair, celeba_dir):
    rec = celeba_pair.record
    folder = celeba_dir / "img_align_celeba_89x109"
    present = sorted(p.name for p in folder.glob("*.jpg"))
    assert rec["image_folder"] == str(folder)  # 10,000 images beat the 32 full-size ones
    assert rec["image_folders_found"] == {
        str(celeba_dir / "img_align_celeba"): 32,
        str(folder): 10000,
    }
    assert rec["images_present"] == len(present) == 10000
    assert rec["attribute_rows"] == 20000 and rec["attribute_count_line1"] == 202599
    values, _ = _attr_column(celeba_dir, "Blond_Hair")
    blond = sum(values[f] == 1 for f in present)
    assert rec["domain_counts"] == {"A": len(present) - blond, "B": blond}
    assert blond == BLOND_IN_FIRST_10K
    assert rec["b_share"] == pytest.approx(blond / 10000)
    assert 0.10 < rec["b_share"] < 0.20  # blond is a minority, as in the full CelebA
    assert rec["attribute"] == "Blond_Hair" and rec["attribute_column"] == 10
    assert rec["warnings"] == []


def test_celeba_splits_disjoint_and_in_domain(celeba_pair, celeba_dir):
    u = celeba_pair
    assert u.record["sizes"] == {"trainA": 300, "trainB": 150, "testA": 100, "testB": 100}
    for split in ("trainA", "trainB", "testA", "testB"):
        arr = u.split(split)
        assert arr.shape == (len(u.names[split]), 32, 32, 3) and arr.dtype == np.uint8
        assert u.names[split] == sorted(set(u.names[split]))
    assert not set(u.names["trainA"]) & set(u.names["testA"])
    assert not set(u.names["trainB"]) & set(u.names["testB"])
    values, _ = _attr_column(celeba_dir, "Blond_Hair")
    assert {values[n] for n in u.names["trainA"] + u.names["testA"]} == {-1}
    assert {values[n] for n in u.names["trainB"] + u.names["testB"]} == {1}
    # the 89x109 faces: the central 89x89 square (10 rows off the top), area-shrunk to 32
    name = u.names["testB"][0]
    rgb = _rgb(celeba_dir / "img_align_celeba_89x109" / name)
    want = cv2.resize(rgb[10:99, :], (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(u.test_b[0], want)
    assert json.loads(json.dumps(u.record)) == u.record
    assert u.record["source_shapes"]["trainA"] == {"109x89": 300}


def test_celeba_held_out_set_does_not_depend_on_the_train_cap(celeba_pair, shared_data):
    small = load_celeba_attribute(shared_data, size=8, max_train=(20, 10))
    assert small.names["testA"] == celeba_pair.names["testA"]
    assert small.names["testB"] == celeba_pair.names["testB"]
    assert not set(small.names["trainB"]) & set(small.names["testB"])
    other = load_celeba_attribute(shared_data, size=8, max_train=(20, 10), seed=1)
    assert other.names["testB"] != small.names["testB"]


def test_celeba_unknown_attribute_lists_names(shared_data, celeba_dir):
    _, names = _attr_column(celeba_dir, "Smiling")
    assert len(names) == 40
    with pytest.raises(BadOptionError, match="Blonde_Hair") as ex:
        load_celeba_attribute(shared_data, attribute="Blonde_Hair")
    for n in names:
        assert n in str(ex.value)


def test_celeba_full_size_folder_lf_file_and_rows_missing(tmp_path, celeba_dir):
    """A folder with the 32 official 178x218 faces and an LF attribute file of 30 rows."""
    base = tmp_path / "CelebA"
    shutil.copytree(celeba_dir / "img_align_celeba", base / "img_align_celeba")
    lines = (celeba_dir / "list_attr_celeba.txt").read_text().splitlines()[:32]
    (base / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    got = load_celeba_attribute(base, attribute="Smiling", size=16, test_per_domain=3)
    rec = got.record
    assert rec["image_folder"] == str(base / "img_align_celeba")
    assert rec["images_present"] == 32 and rec["images_with_row"] == 30
    values, _ = _attr_column(celeba_dir, "Smiling")
    smiling = sum(values[f"{i:06d}.jpg"] == 1 for i in range(1, 31))
    assert rec["domain_counts"] == {"A": 30 - smiling, "B": smiling}
    assert rec["sizes"]["testA"] == 3 and rec["sizes"]["trainB"] == smiling - 3
    assert rec["source_shapes"]["testA"] == {"218x178": 3}
    assert any("2 images" in w and "no row" in w for w in rec["warnings"])
    everything = sum((got.names[s] for s in got.names), [])
    assert "000031.jpg" not in everything and "000032.jpg" not in everything
    name = got.names["trainA"][0]
    rgb = _rgb(base / "img_align_celeba" / name)
    want = cv2.resize(rgb[20:198, :], (16, 16), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(got.train_a[0], want)
    with pytest.raises(BadOptionError, match="test_per_domain"):
        load_celeba_attribute(base, attribute="Smiling", test_per_domain=40)


def test_celeba_missing_and_corrupt_attribute_file(tmp_path):
    with pytest.raises(DatasetMissingError) as ex:
        load_celeba_attribute(tmp_path)
    msg = str(ex.value)
    assert "list_attr_celeba.txt" in msg and str(tmp_path) in msg
    assert "CelebA" in msg and "celeb_a" in msg
    (tmp_path / "list_attr_celeba.txt").write_text("2\nA B\nx.jpg 1 -1\n")
    with pytest.raises(DatasetMissingError, match="img_align_celeba"):
        load_celeba_attribute(tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_text("2\nA B\nx.jpg 1 0\n")
    with pytest.raises(CorruptDataError, match="line 3"):
        read_celeba_attributes(bad)


# ------------------------------------------------------------------------------ registered entries
def _ctx(data_dir, tmp_path, seed=2018):
    return types.SimpleNamespace(data_dir=data_dir, seed=seed, paper=False, out=tmp_path)


@pytest.fixture(scope="module")
def datasets():
    import gan_repro.catalog  # noqa: F401  (fills the registries)
    from gan_repro.registry import DATASETS

    return DATASETS


def test_registered_unpaired_selfie2anime_folder(datasets, unpaired_root, tmp_path):
    data_dir = tmp_path / "data"
    _copy_root(unpaired_root, data_dir / "selfie2anime")
    unpaired = datasets.get("unpaired")
    got = unpaired(_ctx(data_dir, tmp_path), size=16, train_sizes=[5866, 3528])
    assert got.arrays["a"].shape == (24, 16, 16, 3) and got.arrays["b"].shape == (6, 16, 16, 3)
    assert got.held_out["test_a"].shape == (8, 16, 16, 3)
    assert got.held_out["test_b"].shape == (2, 16, 16, 3)
    rec = got.record
    assert json.loads(json.dumps(rec)) == rec
    assert rec["pair"] == "selfie2anime" and rec["source"] == "folder"
    assert rec["root"] == str(data_dir / "selfie2anime")
    assert rec["sizes"] == {"a": 24, "b": 6, "test_a": 8, "test_b": 2}
    assert rec["requested_sizes"]["trainA"] == 5866
    assert rec["preparation"]["size"] == 16 and rec["preparation"]["crop"] == "center"
    sub = rec["substitution"]
    assert sub.startswith(
        "The thesis trained on 5,866 MS-Celeb-1M photos (L429) and 3,528 Danbooru2017 anime "
        "faces (L423), both no longer available; this run uses the selfie2anime set of "
        "U-GAT-IT (Kim et al. 2020) instead: "
    )
    assert "24 selfies (A) and 6 anime faces (B) to train, 8 + 2 held out" in sub
    assert got.warnings[0] == sub
    assert any("(the thesis's size): all 24 are used" in w for w in got.warnings)
    assert got.resources["names"]["testB"] == sorted(
        p.name for p in (data_dir / "selfie2anime" / "testB").iterdir()
    )


def test_registered_unpaired_folder_choices(datasets, unpaired_root, tmp_path, monkeypatch):
    unpaired = datasets.get("unpaired")
    # the data dir itself in the CycleGAN layout; another pair: no substitution sentence
    got = unpaired(_ctx(unpaired_root, tmp_path), pair="faces2animals", size=8)
    assert got.record["root"] == str(unpaired_root) and got.record["substitution"] is None
    assert got.warnings == []
    # root: given explicitly wins over the data dir
    got = unpaired(_ctx(tmp_path / "elsewhere", tmp_path), size=8, root=str(unpaired_root))
    assert got.record["root"] == str(unpaired_root) and got.arrays["a"].shape[0] == 24
    # seeded by ctx.seed
    a = unpaired(_ctx(unpaired_root, tmp_path, seed=5), size=8, train_sizes=5)
    b = unpaired(_ctx(unpaired_root, tmp_path, seed=5), size=8, train_sizes=5)
    np.testing.assert_array_equal(a.arrays["a"], b.arrays["a"])
    assert a.record["loader"]["seed"] == 5
    # no data dir: the instructions
    monkeypatch.delenv("GAN_REPRO_DATA", raising=False)
    with pytest.raises(DatasetMissingError, match="selfie2anime") as ex:
        unpaired(_ctx(None, tmp_path))
    assert "GAN_REPRO_DATA" in str(ex.value) and LAYOUT in str(ex.value)
    with pytest.raises(DatasetMissingError) as ex:
        unpaired(_ctx(tmp_path, tmp_path))  # neither selfie2anime/ nor trainA/ there
    assert str(tmp_path / "selfie2anime") in str(ex.value)
    with pytest.raises(BadOptionError, match="source="):
        unpaired(_ctx(tmp_path, tmp_path), source="web")


def test_registered_unpaired_tfds(datasets, tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=5):
        got = datasets.get("unpaired")(
            _ctx(None, tmp_path), pair="horse2zebra", source="tfds", size=16
        )
    assert got.arrays["a"].shape == (5, 16, 16, 3) and got.held_out["test_b"].shape[0] == 5
    assert got.record["source"] == "tfds" and got.record["substitution"] is None


def test_registered_celeba_attribute(datasets, shared_data, celeba_dir, tmp_path):
    got = datasets.get("celeba_attribute")(
        _ctx(shared_data, tmp_path), size=16, max_train=40, test_per_domain=10
    )
    assert got.arrays["a"].shape == (40, 16, 16, 3) and got.arrays["b"].shape == (40, 16, 16, 3)
    assert got.held_out["test_a"].shape == (10, 16, 16, 3)
    rec = got.record
    assert json.loads(json.dumps(rec)) == rec
    sub = (
        "CPU-scale stand-in for the photo <-> anime pair: real CelebA faces, A = not Blond_Hair, "
        "B = Blond_Hair (the UNIT code's own CelebA task); no anime images are involved"
    )
    assert rec["substitution"] == sub and got.warnings[0] == sub
    assert rec["pair"] == "celeba_Blond_Hair" and rec["source"] == "celeba"
    assert rec["domain_counts"]["B"] == BLOND_IN_FIRST_10K
    assert rec["sizes"] == {"a": 40, "b": 40, "test_a": 10, "test_b": 10}
    assert rec["image_folder"] == str(celeba_dir / "img_align_celeba_89x109")
