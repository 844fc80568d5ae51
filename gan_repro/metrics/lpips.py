"""LPIPS v0.1 (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric") in Keras 3. It is a port of the official ``lpips`` package
(richzhang/PerceptualSimilarity) and matches it to float32 rounding.

Paper, Eq. 1:

    d(x, x0) = sum_l 1/(H_l W_l) sum_{h,w} || w_l ⊙ (ŷ^l_hw − ŷ0^l_hw) ||²_2

ŷ^l is the tap-l activation of a frozen backbone, unit-normalised over channels. w_l is the
learned per-channel weight of tap l, a 1x1 conv with no bias, applied to the squared
difference. In detail, as in ``lpips.LPIPS.forward`` (``spatial=False``, ``lpips=True``):

1. ScalingLayer: ``(x - shift) / scale`` with shift = (-.030, -.088, -.188) and
   scale = (.458, .448, .450). Inputs are RGB in [-1, 1].
2. Backbone taps, torchvision ``features`` layouts, with torch's symmetric padding written as
   ``ZeroPadding2D`` + ``padding="valid"``, and floor-mode max-pools with no padding.
   AlexNet taps relu1..relu5 (64, 192, 384, 256, 256 channels). VGG16 taps relu1_2, relu2_2,
   relu3_3, relu4_3 and relu5_3 (64, 128, 256, 512, 512).
3. Per tap: ``f / (sqrt(sum_c f²) + 1e-10)`` (``lpips.normalize_tensor``), the squared
   difference, the 1x1 head, then the mean over H, W.
4. The sum over the taps gives one distance per pair, shape [B].

The SCoGAN evaluation (/work/shared/spec/001_scogan.md section 5.1) uses the official defaults:
``net="alex"``, v0.1, linear heads, inputs in [-1, 1]. Those are the defaults here.

Weights: see :mod:`gan_repro.metrics.weights` for the ``.npz`` layout (torch state-dict names)
and ``gan-repro weights lpips --net alex``, which makes the file from the official release.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from gan_repro.errors import BadOptionError, CorruptDataError, WeightsMissingError, check_choice
from gan_repro.metrics.weights import LPIPS_NETS, lpips_weights_path

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10

# torchvision ``features``, one entry per module index: ("conv", out, kernel, stride, pad),
# ("relu",) or ("pool", kernel, stride). TAPS: the module indices whose outputs LPIPS reads.
_C, _R = "conv", ("relu",)
# fmt: off
ALEX_FEATURES = [
    (_C, 64, 11, 4, 2), _R, ("pool", 3, 2),
    (_C, 192, 5, 1, 2), _R, ("pool", 3, 2),
    (_C, 384, 3, 1, 1), _R,
    (_C, 256, 3, 1, 1), _R,
    (_C, 256, 3, 1, 1), _R,
]
# fmt: on
ALEX_TAPS = (1, 4, 7, 9, 11)

VGG16_FEATURES = []
for _v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512):
    VGG16_FEATURES += [("pool", 2, 2)] if _v == "M" else [(_C, _v, 3, 1, 1), _R]
VGG16_TAPS = (3, 8, 15, 22, 29)

NETS = {"alex": (ALEX_FEATURES, ALEX_TAPS), "vgg": (VGG16_FEATURES, VGG16_TAPS)}

_BACKBONE_KEY = re.compile(r"^(?:net\.slice\d+|features)\.(\d+)\.(weight|bias)$")
_LIN_KEY = re.compile(r"^lins?\.?(\d+)\.model\.1\.weight$")


def build_backbone(net: str = "alex") -> keras.Model:
    """The frozen feature extractor: NHWC image -> the 5 tap activations.

    Each conv layer is named ``features_<i>``, after its index ``i`` in torchvision.
    """
    check_choice("net", net, NETS)
    spec, taps = NETS[net]
    inp = keras.Input((None, None, 3), name="image")
    h, outs = inp, []
    for i, (kind, *args) in enumerate(spec[: taps[-1] + 1]):
        if kind == "conv":
            filters, kernel, stride, pad = args
            if pad:
                h = layers.ZeroPadding2D(pad, dtype="float32", name=f"pad_{i}")(h)
            h = layers.Conv2D(
                filters,
                kernel,
                strides=stride,
                padding="valid",
                dtype="float32",
                name=f"features_{i}",
            )(h)
        elif kind == "relu":
            h = layers.ReLU(dtype="float32", name=f"relu_{i}")(h)
        else:
            h = layers.MaxPooling2D(
                args[0], args[1], padding="valid", dtype="float32", name=f"pool_{i}"
            )(h)
        if i in taps:
            outs.append(h)
    model = keras.Model(inp, outs, name=f"lpips_{net}_backbone")
    model.trainable = False
    return model


def normalize_tensor(f, eps: float = EPS):
    """``lpips.normalize_tensor`` for NHWC: divide by the L2 norm over channels plus ``eps``."""
    return f / (ops.sqrt(ops.sum(f * f, axis=-1, keepdims=True)) + eps)


def build_lpips_model(net: str = "alex") -> keras.Model:
    """A Keras model: ``[x, y]`` (float32 NHWC in [-1, 1]) -> ``(d [B], per_tap [B, 5])``."""
    backbone = build_backbone(net)
    x = keras.Input((None, None, 3), name="x")
    y = keras.Input((None, None, 3), name="y")
    shift = ops.reshape(ops.convert_to_tensor(SHIFT, "float32"), (1, 1, 1, 3))
    scale = ops.reshape(ops.convert_to_tensor(SCALE, "float32"), (1, 1, 1, 3))
    fx = backbone((x - shift) / scale)
    fy = backbone((y - shift) / scale)
    terms = []
    for k, (a, b) in enumerate(zip(fx, fy, strict=True)):
        diff = ops.square(normalize_tensor(a) - normalize_tensor(b))
        # LPIPS trains its heads clamped to w >= 0 (so d >= 0); random heads keep that property
        lin = layers.Conv2D(
            1,
            1,
            use_bias=False,
            kernel_initializer=keras.initializers.RandomUniform(0.0, 0.1),
            dtype="float32",
            name=f"lin{k}",
        )
        terms.append(ops.mean(lin(diff), axis=(1, 2, 3)))  # spatial mean, 1 channel -> [B]
    total = terms[0]
    for t in terms[1:]:  # the same order as the reference's running sum
        total = total + t
    model = keras.Model([x, y], [total, ops.stack(terms, axis=1)], name=f"lpips_{net}_v0.1")
    model.trainable = False
    return model


class LPIPS:
    """LPIPS v0.1 distance, ``d = LPIPS()(x, y)``. See the module docstring for the maths.

    Args:
        net: ``"alex"`` (the official default, and the one SCoGAN uses) or ``"vgg"`` (VGG16).
        weights: ``"default"`` reads the converted official weights from the user cache,
            :func:`gan_repro.metrics.weights.lpips_weights_path`; create that file with
            ``gan-repro weights lpips --net <net>``. A path reads that ``.npz`` (torch
            state-dict names, see :meth:`load_state`) or a Keras ``.weights.h5`` saved from
            ``self.model``. ``None`` keeps the random init, for tests only.
        version: only ``"0.1"``, the official default. v0.0 had a scaling bug.

    Inputs: float RGB in [-1, 1], NHWC ``[B, H, W, 3]``. For uint8 images use
    ``x / 127.5 - 1``; for [0, 1] images use ``2x - 1`` (the official ``normalize=True``).
    """

    def __init__(
        self, net: str = "alex", weights: str | Path | None = "default", version: str = "0.1"
    ):
        check_choice("net", net, LPIPS_NETS)
        check_choice("version", version, ["0.1"])
        self.net, self.version = net, version
        self.model = build_lpips_model(net)
        self._targets = self._state_targets()
        spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        self._forward = tf.function(
            lambda x, y: self.model([x, y], training=False), input_signature=[spec, spec]
        )
        if weights is None:
            self.weights_path = None
            return
        if isinstance(weights, str) and weights == "default":
            path = lpips_weights_path(net)
            if not path.is_file():
                raise WeightsMissingError(
                    f"LPIPS {net} v0.1 weights not found at {path}. Create them with "
                    f"`gan-repro weights lpips --net {net}` (on a machine with torch, "
                    "torchvision and the `lpips` package, and internet for torchvision's "
                    f"backbone weights), then copy the file there; or pass weights=PATH."
                )
        else:
            path = Path(weights)
            if not path.is_file():
                raise WeightsMissingError(f"LPIPS weights file {path} does not exist")
        self.weights_path = path
        if path.name.endswith(".weights.h5"):
            self.model.load_weights(path)
        elif path.suffix == ".npz":
            try:
                with np.load(path) as f:
                    state = {k: f[k] for k in f.files}
            except (OSError, ValueError) as e:
                raise CorruptDataError(f"cannot read LPIPS weights {path}: {e}") from e
            self.load_state(state, source=str(path))
        else:
            raise BadOptionError(f"weights={str(path)!r}: expected a .npz or a .weights.h5 file")

    def _state_targets(self) -> dict[str, tuple[keras.layers.Layer, int, tuple[int, ...]]]:
        """Canonical torch key -> (Keras layer, weight slot, torch shape)."""
        spec, taps = NETS[self.net]
        backbone = self.model.get_layer(f"lpips_{self.net}_backbone")
        targets, cin, sl = {}, 3, 1
        for i, (kind, *args) in enumerate(spec[: taps[-1] + 1]):
            if kind == "conv":
                out, k = args[0], args[1]
                layer = backbone.get_layer(f"features_{i}")
                targets[f"net.slice{sl}.{i}.weight"] = (layer, 0, (out, cin, k, k))
                targets[f"net.slice{sl}.{i}.bias"] = (layer, 1, (out,))
                cin = out
            if i in taps:
                targets[f"lin{taps.index(i)}.model.1.weight"] = (
                    self.model.get_layer(f"lin{taps.index(i)}"),
                    0,
                    (1, cin, 1, 1),
                )
                sl += 1
        return targets

    def state_keys(self) -> list[str]:
        """The keys :meth:`load_state` needs, in torch state-dict naming."""
        return list(self._targets)

    def load_state(self, state: dict[str, np.ndarray], source: str = "state") -> None:
        """Load torch-layout arrays, keyed as in ``lpips.LPIPS(...).state_dict()``.

        Backbone: ``net.slice<s>.<i>.weight`` (OIHW) / ``.bias``, where ``i`` is the
        torchvision ``features`` index. torchvision's own ``features.<i>.weight`` is accepted
        too. Heads: ``lin<k>.model.1.weight`` [1, C, 1, 1], or the duplicate
        ``lins.<k>.model.1.weight``. ``scaling_layer.shift``/``scale`` are checked against
        the constants. Every backbone and head array is required; an unknown key is an error.
        """
        spec, _ = NETS[self.net]
        index = {}  # feature index / head number -> canonical key
        for key in self._targets:
            m = _BACKBONE_KEY.match(key) or _LIN_KEY.match(key)
            index[(key.startswith("lin"), int(m.group(1)), key.rsplit(".", 1)[-1])] = key
        values, unknown = {}, []
        for key, value in state.items():
            if key in ("scaling_layer.shift", "scaling_layer.scale"):
                want = SHIFT if key.endswith("shift") else SCALE
                if not np.allclose(np.ravel(value), want, rtol=0, atol=1e-6):
                    raise CorruptDataError(
                        f"{source}: {key} is {np.ravel(value).tolist()}, expected {list(want)} "
                        "(LPIPS v0.1 ScalingLayer)"
                    )
                continue
            m = _BACKBONE_KEY.match(key) or _LIN_KEY.match(key)
            ident = m and (key.startswith("lin"), int(m.group(1)), key.rsplit(".", 1)[-1])
            if ident not in index:
                unknown.append(key)
                continue
            values[index[ident]] = np.asarray(value, dtype=np.float32)
        missing = [k for k in self._targets if k not in values]
        if unknown or missing:
            raise CorruptDataError(
                f"{source} does not fit LPIPS net={self.net!r}: "
                f"missing {missing or 'nothing'}; unexpected {unknown or 'nothing'}"
            )
        for key, (layer, slot, shape) in self._targets.items():
            value = values[key]
            if value.shape != shape:
                raise CorruptDataError(
                    f"{source}: {key} has shape {value.shape}, expected {shape} (net={self.net!r})"
                )
            if value.ndim == 4:  # torch OIHW -> Keras HWIO
                value = value.transpose(2, 3, 1, 0)
            layer.weights[slot].assign(value)

    def __call__(self, x, y) -> tf.Tensor:
        """Distance per pair, float32 [B]. ``x``, ``y``: float [B, H, W, 3] in [-1, 1]."""
        return self._forward(*self._check(x, y))[0]

    def per_tap(self, x, y) -> tf.Tensor:
        """The 5 terms of the sum (the reference's ``retPerLayer``), float32 [B, 5]."""
        return self._forward(*self._check(x, y))[1]

    def distances(self, x, y, batch_size: int = 64) -> np.ndarray:
        """Numpy convenience: distances of index-aligned pairs, in batches, float32 [N]."""
        x, y = np.asarray(x), np.asarray(y)
        self._check(x, y)
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        if lo < -1.001 or hi > 1.001:
            raise ValueError(
                f"LPIPS expects images in [-1, 1]; got values in [{lo:g}, {hi:g}]. "
                "Map uint8 with x / 127.5 - 1 and [0, 1] floats with 2 * x - 1."
            )
        out = [
            self(
                x[i : i + batch_size].astype(np.float32), y[i : i + batch_size].astype(np.float32)
            ).numpy()
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0,), np.float32)

    @staticmethod
    def _check(x, y):
        x = tf.convert_to_tensor(x, tf.float32)
        y = tf.convert_to_tensor(y, tf.float32)
        if x.shape.rank != 4 or x.shape[-1] != 3 or x.shape != y.shape:
            hint = " (NCHW? LPIPS here takes NHWC)" if x.shape.rank == 4 and x.shape[1] == 3 else ""
            raise ValueError(
                f"LPIPS needs two float [B, H, W, 3] batches of the same shape; got "
                f"{tuple(x.shape)} and {tuple(y.shape)}{hint}"
            )
        return x, y
