"""The benchmark measures what it says: each mode runs the same step and reports a ratio; the
FLOP counter gives the hand-computed counts; the peak, the profile and the evaluation rows."""

import keras
import pytest
import tensorflow as tf

from gan_repro.bench import run_bench
from gan_repro.bench_flops import count_flops, format_peak, measure_peak, op_type_totals
from gan_repro.bench_table import format_table, with_share


def test_bench_rows_and_table():
    """The SCoGAN step (FR, one critic iteration to keep the trace short) in two modes, with
    its FLOPs counted once for both and the share of a given peak in the table."""
    rows = run_bench(
        "cpu",
        batch_size=2,
        steps=1,
        variant="FR",
        modes=("eager", "function"),
        overrides=("model.n_critic=1",),
    )
    assert [r["mode"] for r in rows] == ["eager", "function"]
    assert all(r["s/step"] > 0 for r in rows)
    assert rows[0]["speed-up vs eager"] == 1.0
    assert rows[0]["flops"] == rows[1]["flops"] > 1e9 and "flop_notes" not in rows[0]
    with_share(rows, 1e12)
    assert rows[1]["share"] == pytest.approx(rows[1]["flops"] / rows[1]["s/step"] / 1e12)
    table = format_table(rows, "title")
    assert "| eager |" in table and "| function |" in table and "x |" in table
    assert "| GFLOP/step | GFLOP/s | % of peak |" in table
    assert f"| {rows[0]['flops'] / 1e9:.4g} |" in table and "% |" in table
    assert "elementwise ops" in table  # the caption says what is not counted


# ----------------------------------------------------------------------------- FLOP counter
B, IN, OUT = 16, 64, 32


def test_flops_of_a_dense_layer_forward_and_training_step():
    dense = keras.layers.Dense(OUT)
    dense.build((B, IN))
    x = tf.random.normal((B, IN))
    forward = 2 * B * IN * OUT
    assert count_flops(lambda x: dense(x), x).flops == forward
    opt = keras.optimizers.SGD(0.1)

    def train_step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(dense(x) ** 2)
        opt.apply(tape.gradient(loss, dense.trainable_variables), dense.trainable_variables)
        return loss

    # the input is data: the backward pass is the kernel's gradient only (x^T dy)
    assert count_flops(train_step, x).flops == 2 * forward

    def with_input_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(dense(x) ** 2)
        return tape.gradient(loss, [x, *dense.trainable_variables])

    count = count_flops(with_input_gradient, x)  # backward = 2 x forward (dx and dW)
    assert count.flops == 3 * forward and count.ops == {"MatMul": 3}


def test_flops_of_conv2d_and_conv2d_transpose():
    conv = keras.layers.Conv2D(8, 3, padding="same")
    x = tf.random.normal((2, 16, 16, 3))
    conv.build(x.shape)
    assert count_flops(lambda x: conv(x), x).by_type == {"Conv2D": 2 * 2 * 16 * 16 * 8 * 3 * 3 * 3}
    up = keras.layers.Conv2DTranspose(4, 4, strides=2, padding="same")
    x = tf.random.normal((2, 8, 8, 8))
    up.build(x.shape)
    # every input pixel (2 x 8 x 8) x 8 input channels x 4x4 taps x 4 output channels
    assert count_flops(lambda x: up(x), x).by_type == {"Conv2DBackpropInput": 2 * 2 * 64 * 8 * 64}


def test_flops_of_a_gradient_penalty_count_the_second_order_ops():
    """GP on D(x) = sum(conv(x)^2), trained on the conv's kernel: forward conv F, dD/dx (a
    backprop-input F), then the outer gradient through it: the kernel's gradient of that
    backprop (backprop-filter F), its output gradient's gradient (a conv F) and through the
    forward conv (backprop-filter F). The input gradients nobody uses are not run (not counted)."""
    d = keras.layers.Conv2D(8, 3, padding="same")
    x = tf.random.normal((2, 16, 16, 3))
    d.build(x.shape)
    f = 2 * 2 * 16 * 16 * 8 * 3 * 3 * 3

    def gp_step(real):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(real)
                score = tf.reduce_sum(tf.square(d(real)))
            g = inner.gradient(score, real)
            gp = tf.reduce_mean(tf.square(tf.norm(tf.reshape(g, (2, -1)), axis=1) - 1.0))
        return outer.gradient(gp, d.trainable_variables)

    count = count_flops(gp_step, x)
    assert count.by_type == {
        "Conv2D": 2 * f,
        "Conv2DBackpropInput": f,
        "Conv2DBackpropFilter": 2 * f,
    }
    assert count.flops == 5 * f


def test_flops_inside_called_functions_and_loops():
    """A nested tf.function (its forward and backward functions), a while loop with a static
    trip count and its gradient loop; a loop whose trip count is only known at run time is
    counted once, with a note."""
    w = tf.Variable(tf.random.normal((4, 4)))
    mm = 2 * 2 * 4 * 4  # [2, 4] x [4, 4]

    @tf.function
    def inner(x):
        return tf.matmul(x, w)

    def step(x):
        with tf.GradientTape() as tape:
            y = inner(x)
            _, y = tf.while_loop(
                lambda i, y: i < 3,
                lambda i, y: (i + 1, tf.matmul(y, w)),
                (0, y),
                maximum_iterations=3,
            )
            loss = tf.reduce_sum(y)
        w.assign_sub(tape.gradient(loss, w))
        return loss

    count = count_flops(step, tf.ones((2, 4)))
    # inner: forward + dW; loop: 3 x (forward + dW + dy)
    assert count.flops == mm * (2 + 3 * 3) and not count.notes

    def dynamic(x):
        s = tf.constant(0.0)
        for _ in tf.range(tf.cast(tf.reduce_sum(x), tf.int32)):
            s += tf.reduce_sum(tf.matmul(x, w))
        return s

    count = count_flops(dynamic, tf.ones((2, 4)))
    assert count.flops == mm and "trip count" in count.notes[0]


# ------------------------------------------------------------------------- peak and profile
def test_peak_is_a_positive_rate_of_timed_matmuls():
    peak = measure_peak("cpu", "float32", n=128, min_seconds=0.01, repeats=2)
    assert peak["flops_per_s"] > 1e6 and peak["calls"] >= 1 and peak["n"] == 128
    assert peak["flops_per_s"] == pytest.approx(2 * 128**3 * peak["calls"] / peak["seconds"])
    assert "float32 matmul peak:" in format_peak(peak) and "128x128" in format_peak(peak)


def test_profile_of_a_matmul_heavy_step_puts_matmul_on_top(tmp_path):
    from gan_repro.bench_flops import format_profile, profile_step

    w = tf.random.normal((256, 256))

    @tf.function
    def step(x):
        for _ in range(4):
            x = tf.nn.relu(tf.matmul(x, w)) * 0.01
        return {"s": tf.reduce_sum(x)}

    prof = profile_step(step, tf.random.normal((256, 256)), steps=2, logdir=tmp_path)
    assert prof["plane"] == "/host:CPU" and prof["xplane"].startswith(str(tmp_path))
    top = prof["top"][0]
    assert "MatMul" in top["op"] and top["calls/step"] == 4 and 0 < top["share"] <= 1
    assert {"Relu", "Sum"} <= {r["op"] for r in prof["top"]}
    totals = op_type_totals(prof["xplane"])["/host:CPU"]
    assert totals[top["op"]]["calls"] == 8  # 2 steps
    assert "| op type | s/step | share of step | calls/step |" in format_profile(prof, "t")


# ------------------------------------------------------------------------------------- eval
def test_eval_bench_rows_extrapolate_to_the_full_size():
    from gan_repro.bench_eval import format_eval_table, run_eval_bench

    rows = run_eval_bench(
        "cpu", lpips_pairs=8, fid_images=0, modes=("function",), stat_features=64, kid_subsets=2
    )
    assert [(r["work"][:4], r["mode"]) for r in rows] == [
        ("LPIP", "function"),
        ("FID ", "numpy float64"),
        ("KID,", "numpy float64"),
    ]
    lp = rows[0]
    assert lp["measured"] == 250  # whole batches of the evaluator's 250
    assert lp["full"] == 50_000 and lp["full_s"] == pytest.approx(50_000 / lp["rate"])
    assert rows[2]["full_s"] == pytest.approx(rows[2]["seconds"] * 50)  # 100 of 2 subsets
    table = format_eval_table(rows, "t")
    assert "| 50,000 pairs |" in table and "One SCoGAN run's evaluation" in table


# --------------------------------------------------------------------------- other sections
def test_lpips_bench_times_eager_and_compiled_on_the_same_pairs():
    from gan_repro.bench import run_lpips_bench

    rows = run_lpips_bench("cpu", pairs=20, batch_size=10, repeats=1)
    assert [r["mode"] for r in rows] == ["eager", "function"]
    assert all(r["steps/s"] > 0 for r in rows)


def test_reference_run_without_the_package_says_what_is_missing(tmp_path):
    import sys

    from gan_repro.bench import _reference_seconds
    from gan_repro.errors import BadOptionError

    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} -I -S "$@"\n')
    fake.chmod(0o755)  # a python that cannot see torch or lpips
    with pytest.raises(BadOptionError, match="torch and lpips"):
        _reference_seconds(str(fake), "cpu", 2, 2, 32, 1)


def test_face_bench_times_the_authors_loop_and_ours_on_one_model():
    """CGAN (the cheapest face model to trace) through ``gan-repro bench``: the Keras-GAN
    train_on_batch loop and our compiled step both run at the thesis's batch size, the ratio is
    against the authors' loop, both rows carry the FLOPs of the same iteration and their share
    of the peak measured first; with a tiny evaluation section."""
    from gan_repro.bench import main

    text = main(
        "--steps 1 --variant none --lpips-pairs 0 --face-models cgan --face-modes keras,function "
        "--peak-n 128 --eval --eval-lpips-pairs 8 --eval-images 0 --eval-modes function "
        "--eval-stat-features 64 --eval-kid-subsets 2".split()
    )
    assert text.startswith("Measured peak (CPU") and "float32 matmul peak:" in text
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| cgan")}
    assert set(rows) == {"keras", "function"} and "| 1.00x |" in rows["keras"]
    gflop = {mode: line.split(" | ")[5] for mode, line in rows.items()}
    assert gflop["keras"] == gflop["function"] and float(gflop["keras"]) > 1
    assert all(line.endswith("% |") for line in rows.values())  # the share of the peak
    assert "| LPIPS AlexNet v0.1, 32x32 pairs, batch 250 | function | 250 pairs |" in text


def test_translation_bench_times_the_declared_cyclegan_and_unit_steps():
    """Both runs of the CycleGAN-vs-UNIT declaration, built at 64x64 from their paper-scale
    model sections (the networks do not depend on the size), one compiled step each."""
    from gan_repro.bench_translation import run_translation_bench, translation_family

    rows = run_translation_bench("cpu", ("unit",), size=64, steps=1, modes=("function",))
    assert [(r["model"], r["mode"]) for r in rows] == [("unit", "function")]
    assert rows[0]["s/step"] > 0 and "speed-up vs eager" not in rows[0]
    assert rows[0]["flops"] > 0
    table = format_table(rows, "t", leading=("model",))
    assert "| unit | function |" in table
    family = translation_family("cyclegan", 64)
    assert family.config.generator == "cyclegan_resnet_generator"
    assert family.models["g_ab"].count_params() == 11_378_179
