"""The benchmark measures what it says: each mode runs the same step and reports a ratio."""

from gan_repro.bench import format_table, run_bench


def test_bench_rows_and_table():
    rows = run_bench("cpu", batch_size=2, steps=1, variant="FR", modes=("eager", "function"))
    assert [r["mode"] for r in rows] == ["eager", "function"]
    assert all(r["s/step"] > 0 for r in rows)
    assert rows[0]["speed-up vs eager"] == 1.0
    table = format_table(rows, "title")
    assert "| eager |" in table and "| function |" in table and "x |" in table
