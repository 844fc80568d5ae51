"""Pretrained Keras weights files: cache paths, and an offline download that fails clearly."""

import keras
import pytest

from gan_repro.errors import WeightsMissingError
from gan_repro.losses.perceptual import VGG19_WEIGHTS, vgg19_features, vgg19_weights_path
from gan_repro.metrics.fid import INCEPTION_WEIGHTS, inception_features
from gan_repro.pretrained import cache_candidates, is_cached


@pytest.mark.parametrize(
    "spec, build",
    [(VGG19_WEIGHTS, vgg19_features), (INCEPTION_WEIGHTS, inception_features)],
    ids=["vgg19", "inception_v3"],
)
def test_offline_imagenet_weights_error_names_the_cache_path_and_url(
    spec, build, tmp_path, monkeypatch
):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    target = tmp_path / "keras_home" / "models" / spec.filename
    assert cache_candidates(spec)[0] == target and not is_cached(spec)

    def no_network(*args, **kwargs):
        raise OSError("URL fetch failure: no network in tests")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(WeightsMissingError) as info:
        build(weights="imagenet")
    message = str(info.value)
    assert str(target) in message and spec.url in message and "weights=" in message


def test_vgg19_cache_path_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert vgg19_weights_path() == tmp_path / "models" / VGG19_WEIGHTS.filename
    assert VGG19_WEIGHTS.url.endswith("vgg19/" + VGG19_WEIGHTS.filename)
