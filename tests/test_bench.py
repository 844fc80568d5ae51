"""The benchmark measures what it says: each mode runs the same step and reports a ratio."""

from gan_repro.bench import run_bench
from gan_repro.bench_table import format_table


def test_bench_rows_and_table():
    rows = run_bench("cpu", batch_size=2, steps=1, variant="FR", modes=("eager", "function"))
    assert [r["mode"] for r in rows] == ["eager", "function"]
    assert all(r["s/step"] > 0 for r in rows)
    assert rows[0]["speed-up vs eager"] == 1.0
    table = format_table(rows, "title")
    assert "| eager |" in table and "| function |" in table and "x |" in table


def test_lpips_bench_times_eager_and_compiled_on_the_same_pairs():
    from gan_repro.bench import run_lpips_bench

    rows = run_lpips_bench("cpu", pairs=20, batch_size=10, repeats=1)
    assert [r["mode"] for r in rows] == ["eager", "function"]
    assert all(r["steps/s"] > 0 for r in rows)


def test_reference_run_without_the_package_says_what_is_missing(tmp_path):
    import sys

    import pytest

    from gan_repro.bench import _reference_seconds
    from gan_repro.errors import BadOptionError

    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} -I -S "$@"\n')
    fake.chmod(0o755)  # a python that cannot see torch or lpips
    with pytest.raises(BadOptionError, match="torch and lpips"):
        _reference_seconds(str(fake), "cpu", 2, 2, 32, 1)


def test_face_bench_times_the_authors_loop_and_ours_on_one_model():
    """CGAN (the cheapest face model to trace): the Keras-GAN train_on_batch loop and our
    compiled step both run at the thesis's batch size; the ratio is against the authors' loop."""
    from gan_repro.bench_face import format_face_table, run_face_bench

    rows = run_face_bench("cpu", ["cgan"], steps=1, modes=("keras", "function"))
    assert [(r["model"], r["mode"]) for r in rows] == [("cgan", "keras"), ("cgan", "function")]
    assert all(r["s/step"] > 0 for r in rows) and rows[0]["speed-up"] == 1.0
    assert "| cgan | function |" in format_face_table(rows, "t")


def test_translation_bench_times_the_declared_cyclegan_and_unit_steps():
    """Both runs of the CycleGAN-vs-UNIT declaration, built at 64x64 from their paper-scale
    model sections (the networks do not depend on the size), one compiled step each."""
    from gan_repro.bench_translation import run_translation_bench, translation_family

    rows = run_translation_bench("cpu", ("unit",), size=64, steps=1, modes=("function",))
    assert [(r["model"], r["mode"]) for r in rows] == [("unit", "function")]
    assert rows[0]["s/step"] > 0 and "speed-up vs eager" not in rows[0]
    table = format_table(rows, "t", leading=("model",))
    assert "| unit | function |" in table
    family = translation_family("cyclegan", 64)
    assert family.config.generator == "cyclegan_resnet_generator"
    assert family.models["g_ab"].count_params() == 11_378_179
