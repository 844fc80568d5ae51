"""LPIPS v0.1 against the official ``lpips`` package (golden values from
tests/fixtures/make_lpips_golden.py; spec 001 section 5.1). No torch needed."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_repro.errors import BadOptionError, CorruptDataError, WeightsMissingError
from gan_repro.metrics import weights as W
from gan_repro.metrics.lpips import LPIPS, build_backbone

FIXTURES = Path(__file__).with_name("fixtures")
ATOL = 1e-5

_spec = importlib.util.spec_from_file_location("lpips_golden", FIXTURES / "make_lpips_golden.py")
golden_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden_script)  # numpy only: torch is imported inside its main()


@pytest.fixture(scope="module")
def golden():
    with np.load(FIXTURES / "lpips_golden.npz") as f:
        return {k: f[k] for k in f.files}


def reference_state(golden, net):
    """The exact float32 arrays the reference ran on, keyed by torch state-dict names."""
    state = {}
    for key, value in golden.items():
        name = key.removeprefix(f"{net}/")
        if name == key or name.startswith(("d", "layers", "probe/", "seed")):
            continue
        if name.endswith(".int8"):
            state[name[:-5]] = value.astype(np.float32) * golden[key[:-5] + ".scale"]
        elif not name.endswith(".scale"):
            state[name] = value
    if net == "vgg":
        regen = golden_script.vgg_backbone_state(int(golden["vgg/seed"]))
        for k, v in regen.items():  # a changed NumPy stream would fail here, not as a distance
            np.testing.assert_array_equal(v.reshape(-1)[:8], golden[f"vgg/probe/{k}"], err_msg=k)
        state.update(regen)
    return state


@pytest.fixture(scope="module")
def models(golden):
    out = {}
    for net in ("alex", "vgg"):
        m = LPIPS(net, weights=None)
        m.load_state(reference_state(golden, net))
        out[net] = m
    return out


def pair(golden, size):
    return golden_script.to_unit(golden[f"x{size}"]), golden_script.to_unit(golden[f"y{size}"])


@pytest.mark.parametrize("net", ["alex", "vgg"])
@pytest.mark.parametrize("size", [64, 32])
def test_matches_official_lpips(golden, models, net, size):
    x, y = pair(golden, size)
    d = models[net](x, y).numpy()
    assert d.shape == (len(x),) and d.dtype == np.float32
    np.testing.assert_allclose(d, golden[f"{net}/d{size}"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        models[net].per_tap(x, y).numpy(), golden[f"{net}/layers{size}"], rtol=0, atol=ATOL
    )


def test_fixture_records_its_reference(golden):
    meta = json.loads(str(golden["meta"]))
    assert meta["lpips"].startswith("0.1") and "torch" in meta
    assert golden["alex/d64"][-1] == 0.0  # the identical pair, per the reference
    assert np.all(golden["alex/d64"][:-1] > 1e-3)


def test_identical_images_give_zero(golden, models):
    x, _ = pair(golden, 64)
    assert np.all(models["alex"](x, x).numpy() == 0.0)
    assert models["alex"](x[-1:], golden_script.to_unit(golden["y64"][-1:])).numpy()[0] == 0.0


def test_symmetric(golden, models):
    x, y = pair(golden, 64)
    np.testing.assert_allclose(models["alex"](x, y), models["alex"](y, x), rtol=0, atol=1e-7)


def test_distances_batches_like_call(golden, models):
    x, y = pair(golden, 64)
    np.testing.assert_allclose(
        models["alex"].distances(x, y, batch_size=3), golden["alex/d64"], rtol=0, atol=ATOL
    )
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        models["alex"].distances(golden["x64"], golden["y64"])  # uint8 0..255 by mistake
    with pytest.raises(ValueError, match="NHWC"):
        models["alex"](np.transpose(x, (0, 3, 1, 2)), np.transpose(y, (0, 3, 1, 2)))


def test_weights_from_npz_and_keras_file(golden, models, tmp_path):
    x, y = pair(golden, 32)
    npz = W.save_npz_atomic(reference_state(golden, "alex"), tmp_path / "lpips_alex.npz")
    np.testing.assert_allclose(LPIPS("alex", weights=npz)(x, y), golden["alex/d32"], atol=ATOL)
    h5 = tmp_path / "lpips_alex.weights.h5"
    models["alex"].model.save_weights(h5)
    np.testing.assert_allclose(LPIPS("alex", weights=h5)(x, y), golden["alex/d32"], atol=ATOL)


def test_default_weights_from_cache(golden, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_REPRO_CACHE", str(tmp_path))
    assert W.cache_dir() == tmp_path
    assert W.lpips_weights_path("alex") == tmp_path / "lpips_alex_v0.1.npz"
    W.save_npz_atomic(reference_state(golden, "alex"), W.lpips_weights_path("alex"))
    assert [p.name for p in tmp_path.iterdir()] == ["lpips_alex_v0.1.npz"]  # no temp left
    x, y = pair(golden, 32)
    np.testing.assert_allclose(LPIPS()(x, y), golden["alex/d32"], rtol=0, atol=ATOL)


def test_missing_default_weights_say_how_to_make_them(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_REPRO_CACHE", str(tmp_path))
    with pytest.raises(WeightsMissingError) as e:
        LPIPS("alex")
    assert str(tmp_path / "lpips_alex_v0.1.npz") in str(e.value)
    assert "gan-repro weights lpips --net alex" in str(e.value)
    assert "weights=PATH" in str(e.value)
    with pytest.raises(WeightsMissingError, match="nowhere.npz"):
        LPIPS("alex", weights=tmp_path / "nowhere.npz")


def test_cache_dir_default(monkeypatch):
    monkeypatch.delenv("GAN_REPRO_CACHE", raising=False)
    assert W.cache_dir() == Path.home() / ".keras" / "gan_repro"


def test_bad_options_are_refused_with_choices():
    with pytest.raises(BadOptionError, match="'alex', 'vgg'"):
        LPIPS("squeeze", weights=None)
    with pytest.raises(BadOptionError, match="'0.1'"):
        LPIPS("alex", weights=None, version="0.0")
    with pytest.raises(BadOptionError, match="'alex', 'vgg'"):
        W.lpips_weights_path("resnet")


def test_load_state_checks_keys_shapes_and_scaling(golden):
    state = reference_state(golden, "alex")
    m = LPIPS("alex", weights=None)
    assert sorted(m.state_keys()) == sorted(state)
    torch_like = dict(state)  # the raw torch state dict also has these
    for k in range(5):
        torch_like[f"lins.{k}.model.1.weight"] = state[f"lin{k}.model.1.weight"]
    for name, value in (("shift", [-0.030, -0.088, -0.188]), ("scale", [0.458, 0.448, 0.450])):
        torch_like[f"scaling_layer.{name}"] = np.array(value, np.float32).reshape(1, 3, 1, 1)
    m.load_state(torch_like)
    with pytest.raises(CorruptDataError, match="missing.*net.slice5.10.bias"):
        m.load_state({k: v for k, v in state.items() if k != "net.slice5.10.bias"})
    with pytest.raises(CorruptDataError, match="unexpected.*classifier.1.weight"):
        m.load_state({**state, "classifier.1.weight": np.zeros(3)})
    with pytest.raises(CorruptDataError, match="shape"):
        m.load_state({**state, "lin0.model.1.weight": np.zeros((1, 65, 1, 1))})
    with pytest.raises(CorruptDataError, match="ScalingLayer"):
        m.load_state({**state, "scaling_layer.scale": np.ones((1, 3, 1, 1))})
    with pytest.raises(CorruptDataError, match="does not fit"):
        LPIPS("vgg", weights=None).load_state(state)


@pytest.mark.parametrize(
    "net, channels, sizes64, params",
    [
        ("alex", (64, 192, 384, 256, 256), (15, 7, 3, 3, 3), 2_469_696),
        ("vgg", (64, 128, 256, 512, 512), (64, 32, 16, 8, 4), 14_714_688),
    ],
)
def test_backbone_taps(net, channels, sizes64, params):
    bb = build_backbone(net)
    outs = bb(np.zeros((1, 64, 64, 3), np.float32))
    assert tuple(o.shape[-1] for o in outs) == channels
    assert tuple(o.shape[1] for o in outs) == sizes64
    assert bb.count_params() == params  # torchvision features[:taps], conv weights + biases
    assert not bb.trainable_weights


def test_weights_cli_without_torch_says_what_to_install(monkeypatch, tmp_path):
    for name in ("torch", "lpips"):  # as if they were not installed
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(BadOptionError, match="pip install torch torchvision lpips"):
        W.main_weights(["lpips", "--net", "alex", "--out", str(tmp_path / "w.npz")])
    with pytest.raises(SystemExit):
        W.main_weights(["lpips", "--net", "squeeze"])
