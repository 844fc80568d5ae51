"""Where a training step's time goes: its FLOPs, the machine's matmul peak, and a profile.

* :func:`count_flops` traces a step (a python function or a ``tf.function``) on a concrete batch
  with ``get_concrete_function`` and counts, over every op of the graph and of every function
  body it calls (``PartitionedCall``/``StatefulPartitionedCall``, the forward and backward
  functions of a gradient, ``While`` bodies times their trip count, the costliest ``If``/``Case``
  branch), 2 x the multiply-adds of each matmul and convolution from its static shapes: MatMul,
  BatchMatMul(V2/V3), Einsum, Conv2D/Conv3D, DepthwiseConv2dNative and their backprop ops (which
  a gradient penalty's second-order gradient adds too). Elementwise ops, reductions,
  normalisation statistics and pooling are not counted: the count is the step's
  matmul/convolution work, what a matmul peak can be compared with.
* :func:`measure_peak`: the best rate of a few timed large matmuls on the benched device.
* :func:`profile_step` runs the TensorFlow profiler over a few compiled steps and
  :func:`op_type_totals` / :func:`top_op_types` read the ``xplane.pb`` it writes: the time, share
  of the step and call count of each TF op type (host CPU plane, and a GPU plane when present).
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

#: Ops that call one function (attribute ``f``) on their inputs.
CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")
WHILE_OPS = ("While", "StatelessWhile")
IF_OPS = ("If", "StatelessIf")
CASE_OPS = ("Case", "StatelessCase")
#: Op types that only run other ops (a profile would count their children twice).
CONTROL_OPS = (*CALL_OPS, *WHILE_OPS, *IF_OPS, *CASE_OPS, "SymbolicGradient")


# ------------------------------------------------------------------------------- per-op counts
def _dims(tensor_or_shape) -> list[int] | None:
    shape = tf.TensorShape(getattr(tensor_or_shape, "shape", tensor_or_shape))
    return shape.as_list() if shape.is_fully_defined() else None


def _attr(op, name, default=None):
    try:
        return op.get_attr(name)
    except (ValueError, TypeError):
        return default


def _matmul(op):
    """``[m, k] x [k, n]`` (either operand transposed): 2 m n k."""
    a, out = _dims(op.inputs[0]), _dims(op.outputs[0])
    if a is None or out is None:
        return None
    transposed = _attr(op, "transpose_a", False) or _attr(op, "adj_x", False)
    return 2 * math.prod(out) * (a[-2] if transposed else a[-1])


def _conv(grad_index: int | None, filter_from_output: bool, depthwise: bool = False):
    """A convolution or one of its backprops: 2 x (output positions) x (filter taps x input
    channels). ``grad_index``: the input holding the forward output's gradient (``None``: the op's
    own output is the forward output); the filter's shape is its input 1 or, for the filter
    backprops, the op's output."""

    def count(op):
        out = _dims(op.inputs[grad_index] if grad_index is not None else op.outputs[0])
        filt = _dims(op.outputs[0] if filter_from_output else op.inputs[1])
        if out is None or filt is None:
            return None
        # [kh, kw, (kd,) in, out]: each output value is a dot product over all but the last axis;
        # depthwise [kh, kw, in, multiplier]: over the spatial taps only
        taps = math.prod(filt[:-2]) if depthwise else math.prod(filt[:-1])
        return 2 * math.prod(out) * taps

    return count


def _einsum(op):
    """Two-operand Einsum: 2 x the product of the sizes of all its labels (every combination of
    indices is one multiply-add). One-operand einsums (transposes, traces) are not counted."""
    if len(op.inputs) != 2:
        return 0
    shapes = [_dims(t) for t in op.inputs]
    if any(s is None for s in shapes):
        return None
    equation = _attr(op, "equation").decode().replace(" ", "")
    terms = equation.split("->")[0].split(",")
    sizes: dict[str, int] = {}
    ellipses = []
    for term, shape in zip(terms, shapes, strict=True):
        if "..." in term:
            head, tail = term.split("...")
            n_ell = len(shape) - len(head) - len(tail)
            ellipses.append(shape[len(head) : len(head) + n_ell])
            labels = list(head) + [None] * n_ell + list(tail)
        else:
            labels = list(term)
        for label, size in zip(labels, shape, strict=True):
            if label is not None:
                sizes[label] = max(sizes.get(label, 1), size)
    ellipsis = np.broadcast_shapes(*[tuple(e) for e in ellipses]) if ellipses else ()
    return 2 * math.prod(sizes.values()) * math.prod(ellipsis)


#: Op type -> FLOPs (2 x multiply-adds) from its static shapes, or None when they are unknown.
COUNTERS = {
    "MatMul": _matmul,
    "_FusedMatMul": _matmul,
    "BatchMatMul": _matmul,
    "BatchMatMulV2": _matmul,
    "BatchMatMulV3": _matmul,
    "Einsum": _einsum,
    "Conv2D": _conv(None, False),
    "_FusedConv2D": _conv(None, False),
    "Conv2DBackpropInput": _conv(2, False),
    "Conv2DBackpropFilter": _conv(2, True),
    "Conv3D": _conv(None, False),
    "Conv3DBackpropInputV2": _conv(2, False),
    "Conv3DBackpropFilterV2": _conv(2, True),
    "DepthwiseConv2dNative": _conv(None, False, depthwise=True),
    "DepthwiseConv2dNativeBackpropInput": _conv(2, False, depthwise=True),
    "DepthwiseConv2dNativeBackpropFilter": _conv(2, True, depthwise=True),
}


# --------------------------------------------------------------------------------- graph walk
@dataclass
class FlopCount:
    """FLOPs (2 x multiply-adds) of a traced function: the total, per op type, how many ops of
    each type were counted, and notes on what could not be counted exactly."""

    flops: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_op(self, op_type: str, flops: int, times: int = 1) -> None:
        self.flops += flops * times
        self.by_type[op_type] = self.by_type.get(op_type, 0) + flops * times
        self.ops[op_type] = self.ops.get(op_type, 0) + times

    def add(self, other: FlopCount, times: int = 1) -> None:
        self.flops += other.flops * times
        for t, f in other.by_type.items():
            self.by_type[t] = self.by_type.get(t, 0) + f * times
        for t, n in other.ops.items():
            self.ops[t] = self.ops.get(t, 0) + n * times
        self.notes += [n for n in other.notes if n not in self.notes]

    @property
    def gflops(self) -> float:
        return self.flops / 1e9


def live_ops(graph, used=None) -> list:
    """The graph's ops that run: those its outputs (only those at the indices ``used``, when
    given), control outputs or stateful ops (variable updates, ...) depend on. TensorFlow prunes
    the rest when it runs a function, e.g. the input gradient that a convolution's gradient
    function also builds when only the filter's is asked for."""
    outputs = list(getattr(graph, "outputs", []))
    roots = [t.op for i, t in enumerate(outputs) if used is None or i in used]
    roots += list(getattr(graph, "control_outputs", []))
    roots += [op for op in graph.get_operations() if getattr(op, "_is_stateful", False)]
    live, stack = set(), roots
    while stack:
        op = stack.pop()
        if op not in live:
            live.add(op)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    return [op for op in graph.get_operations() if op in live]


class _Walker:
    """Counts a graph and the function bodies it calls, each body once per call (a body called
    twice with the same input shapes is walked once and added twice)."""

    def __init__(self, graph):
        self.top = graph
        self.functions: dict = {}
        self.fdefs: dict | None = None
        self.cache: dict = {}
        self.trips: dict = {}  # While op -> its trip count, for the gradient loop's
        self._collect(graph)

    def _collect(self, graph) -> None:
        for name, fn in getattr(graph, "_functions", {}).items():
            self.functions.setdefault(name, fn)

    def _body(self, name: str, input_shapes):
        """The function's graph: the FuncGraph it was traced as, else its FunctionDef imported
        with the call site's input shapes."""
        graph = getattr(self.functions.get(name), "graph", None)
        if graph is None:
            if self.fdefs is None:
                self.fdefs = {f.signature.name: f for f in self.top.as_graph_def().library.function}
            if name not in self.fdefs:
                return None
            from tensorflow.python.framework.function_def_to_graph import function_def_to_graph

            graph = function_def_to_graph(self.fdefs[name], input_shapes=list(input_shapes))
        self._collect(graph)
        return graph

    def call(self, name: str, inputs, used=None) -> FlopCount:
        """The body of function ``name`` called on ``inputs``, where only its outputs at the
        indices ``used`` are consumed (None: all)."""
        shapes = tuple(tf.TensorShape(t.shape) for t in inputs)
        key = (name, tuple(str(s) for s in shapes), used)
        if key not in self.cache:
            body = self._body(name, shapes)
            if body is None:
                self.cache[key] = FlopCount(notes=[f"function {name} not found: not counted"])
            else:
                self.cache[key] = self.count(body, used)
        return self.cache[key]

    def _trip_count(self, op) -> int | None:
        """While v2 loops carry (loop counter, maximum iterations, ...): a static maximum, or for a
        gradient loop the forward loop's count (its input 2 is that loop's counter output)."""
        limit = tf.get_static_value(op.inputs[1]) if len(op.inputs) > 1 else None
        if limit is not None and int(limit) >= 0:
            return int(limit)
        if len(op.inputs) > 2:
            src = op.inputs[2]
            if src.op.type in WHILE_OPS and src.value_index == 0:
                return self.trips.get(src.op)
        return None

    def count(self, graph, used=None) -> FlopCount:
        """The live ops of ``graph`` (see :func:`live_ops`) and the bodies they call."""
        out = FlopCount()
        ops = live_ops(graph, used)
        live = set(ops)
        needed = {
            id(t) for i, t in enumerate(getattr(graph, "outputs", [])) if used is None or i in used
        }

        def consumed(op) -> frozenset:
            return frozenset(
                i
                for i, t in enumerate(op.outputs)
                if id(t) in needed or any(c in live for c in t.consumers())
            )

        for op in ops:
            kind = op.type
            if kind in COUNTERS:
                flops = COUNTERS[kind](op)
                if flops is None:
                    out.notes.append(f"{kind} {op.name}: shapes not static, not counted")
                else:
                    out.add_op(kind, flops)
            elif kind in CALL_OPS:
                out.add(self.call(op.get_attr("f").name, op.inputs, consumed(op)))
            elif kind in WHILE_OPS:
                trips = self._trip_count(op)
                self.trips[op] = trips
                body = self.call(op.get_attr("body").name, op.inputs)
                if trips is None and body.flops:
                    out.notes.append(
                        f"{kind} {op.name}: trip count only known at run time, body counted once"
                    )
                out.add(body, 1 if trips is None else trips)
            elif kind in IF_OPS or kind in CASE_OPS:
                names = (
                    [op.get_attr("then_branch").name, op.get_attr("else_branch").name]
                    if kind in IF_OPS
                    else [b.name for b in op.get_attr("branches")]
                )
                counts = [self.call(n, op.inputs[1:], consumed(op)) for n in names]
                costly = max(counts, key=lambda c: c.flops)
                if len({c.flops for c in counts}) > 1:
                    out.notes.append(f"{kind} {op.name}: the costliest branch counted")
                out.add(costly)
            elif kind == "SymbolicGradient":
                out.notes.append(f"SymbolicGradient {op.name}: not counted")
        return out


def count_graph_flops(graph) -> FlopCount:
    """:class:`FlopCount` of a (function) graph and the function bodies it calls."""
    return _Walker(graph).count(graph)


def count_flops(fn, *args, **kwargs) -> FlopCount:
    """FLOPs of one call of ``fn(*args, **kwargs)``, counted on the graph ``tf.function`` traces
    for these arguments (an existing ``tf.function``'s cached trace is reused). Give concrete
    tensors (a real batch) so every shape, the batch included, is static."""
    traced = fn if hasattr(fn, "get_concrete_function") else tf.function(fn)
    return count_graph_flops(traced.get_concrete_function(*args, **kwargs).graph)


# ------------------------------------------------------------------------------------------ peak
def device_scope(device: str):
    """``tf.device`` of ``device`` ("cpu" or "gpu"; refused when TensorFlow sees no GPU)."""
    from gan_repro.errors import BadOptionError, check_choice

    check_choice("device", device, ("cpu", "gpu"))
    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise BadOptionError("--device gpu: TensorFlow sees no GPU on this machine")
    return tf.device("/GPU:0" if device == "gpu" else "/CPU:0")


def measure_peak(
    device: str = "cpu",
    dtype: str = "float32",
    n: int = 4096,
    min_seconds: float = 0.2,
    repeats: int = 3,
) -> dict:
    """The best rate of ``n`` x ``n`` matmuls on ``device``: calls per timing double until a
    timing takes ``min_seconds``, then the best of ``repeats`` timings of that many calls.
    Returns ``{"dtype", "n", "calls", "seconds", "flops_per_s", "tf32"}`` (``calls`` matmuls of
    2 n^3 FLOPs in ``seconds``; ``tf32``: TensorFloat-32 allowed for float32 on a GPU)."""
    with device_scope(device):
        a = tf.cast(tf.random.uniform((n, n), -1, 1, seed=1), dtype)
        b = tf.cast(tf.random.uniform((n, n), -1, 1, seed=2), dtype)

        def timing(calls: int) -> float:
            t0 = time.perf_counter()
            for _ in range(calls):
                c = tf.linalg.matmul(a, b)
            c[0, 0].numpy()  # waits for the device's queue
            return time.perf_counter() - t0

        timing(1)  # warm-up: kernel selection, allocation
        calls, seconds = 1, timing(1)
        while seconds < min_seconds and calls < 1 << 16:
            calls *= 2
            seconds = timing(calls)
        best = min([seconds] + [timing(calls) for _ in range(repeats - 1)])
    tf32 = device == "gpu" and tf.config.experimental.tensor_float_32_execution_enabled()
    return {
        "dtype": dtype,
        "n": n,
        "calls": calls,
        "seconds": best,
        "flops_per_s": 2.0 * n**3 * calls / best,
        "tf32": bool(tf32),
    }


def format_peak(peak: dict) -> str:
    """``float32 matmul peak: 123.4 GFLOP/s (best of 3 x 2 calls of 4096x4096)``."""
    kind = peak["dtype"] + (" (TF32 allowed)" if peak.get("tf32") else "")
    return (
        f"{kind} matmul peak: {peak['flops_per_s'] / 1e9:,.1f} GFLOP/s ({peak['calls']} "
        f"call(s) of {peak['n']}x{peak['n']} in {peak['seconds']:.3g} s, the best timing)"
    )


# --------------------------------------------------------------------------------------- profile
_TF_OP = re.compile(r"^([^\s:]+):([A-Za-z_][A-Za-z0-9_]*)$")


def _xspace(path_or_space):
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    if isinstance(path_or_space, xplane_pb2.XSpace):
        return path_or_space
    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(path_or_space).read_bytes())
    return space


def _stat_str(plane, stat) -> str | None:
    kind = stat.WhichOneof("value")
    if kind == "str_value":
        return stat.str_value
    if kind == "ref_value":
        return plane.stat_metadata[stat.ref_value].name
    return None


def op_type_totals(path_or_space) -> dict[str, dict[str, dict]]:
    """``{plane: {op type: {"ps": total duration in picoseconds, "calls": events}}}`` from an
    ``xplane.pb`` (or a parsed ``XSpace``). Host planes: the executor's TF op events, named
    ``op_name:OpType`` (ops that only run other ops, like ``PartitionedCall``, are left out:
    their children are counted). Device planes (GPU): each kernel by the TF op in its ``tf_op``
    stat (a TF op of several kernels counts each launch)."""
    space = _xspace(path_or_space)
    totals: dict[str, dict[str, dict]] = {}
    for plane in space.planes:
        device = plane.name.startswith("/device:")
        if not (device or plane.name.startswith("/host:")):
            continue
        tf_op_stat = next((i for i, m in plane.stat_metadata.items() if m.name == "tf_op"), None)
        agg: dict[str, dict] = {}
        for line in plane.lines:
            for event in line.events:
                name = None
                if device:
                    name = next(
                        (_stat_str(plane, s) for s in event.stats if s.metadata_id == tf_op_stat),
                        None,
                    )
                else:
                    name = plane.event_metadata[event.metadata_id].name
                match = _TF_OP.match(name or "")
                if not match or match.group(2) in CONTROL_OPS:
                    continue
                entry = agg.setdefault(match.group(2), {"ps": 0, "calls": 0})
                entry["ps"] += event.duration_ps
                entry["calls"] += 1
        if agg:
            totals[plane.name] = agg
    return totals


def top_op_types(totals: dict[str, dict], seconds: float, steps: int = 1, top: int = 5):
    """The ``top`` costliest op types of one plane's totals, as rows ``{"op", "s/step",
    "share", "calls/step"}``; ``seconds`` is the wall time of the ``steps`` profiled steps
    (ops running in parallel can make the shares add up to more than 1)."""
    ranked = sorted(totals.items(), key=lambda kv: -kv[1]["ps"])[:top]
    return [
        {
            "op": op,
            "s/step": t["ps"] * 1e-12 / steps,
            "share": t["ps"] * 1e-12 / seconds,
            "calls/step": t["calls"] / steps,
        }
        for op, t in ranked
    ]


def _wait(out) -> None:
    for t in tf.nest.flatten(out):
        np.asarray(t)


def profile_step(fn, batch, steps: int = 2, logdir=None, top: int = 5, warmup=True) -> dict:
    """Run ``fn(batch)`` once (compiling it; ``warmup=False`` when it ran already), then
    ``steps`` times under the TensorFlow profiler, writing to ``logdir`` (a new temporary folder
    if None). Returns ``{"logdir", "xplane", "steps", "s/step" (wall time under the profiler),
    "plane", "top"}``: the ``top`` op types of the GPU plane if there is one, else of the host
    CPU plane."""
    if warmup:
        _wait(fn(batch))
    logdir = Path(logdir or tempfile.mkdtemp(prefix="gan-repro-profile-"))
    before = set(logdir.rglob("*.xplane.pb"))
    tf.profiler.experimental.start(str(logdir))
    try:
        t0 = time.perf_counter()
        for _ in range(steps):
            out = fn(batch)
        _wait(out)
        seconds = time.perf_counter() - t0
    finally:
        tf.profiler.experimental.stop()
    written = sorted(set(logdir.rglob("*.xplane.pb")) - before, key=lambda p: p.stat().st_mtime)
    if not written:
        raise RuntimeError(f"the profiler wrote no xplane.pb under {logdir}")
    totals = op_type_totals(written[-1])
    plane = next((p for p in totals if p.startswith("/device:GPU")), "/host:CPU")
    return {
        "logdir": str(logdir),
        "xplane": str(written[-1]),
        "steps": steps,
        "s/step": seconds / steps,
        "plane": plane,
        "top": top_op_types(totals.get(plane, {}), seconds, steps, top),
    }


def format_profile(profile: dict, title: str) -> str:
    """Markdown table of :func:`profile_step`'s top op types under ``title``."""
    lines = [
        f"{title}: {profile['steps']} step(s) of {profile['s/step']:.4g} s under the profiler, "
        f"TF ops on {profile['plane']} (trace: {profile['xplane']})",
        "",
        "| op type | s/step | share of step | calls/step |",
        "|---|---|---|---|",
    ]
    for r in profile["top"]:
        lines.append(
            f"| {r['op']} | {r['s/step']:.4g} | {100 * r['share']:.1f}% | {r['calls/step']:g} |"
        )
    lines += [
        "",
        "Op types as the runtime names them (`_Mkl...`: oneDNN kernels, `...WithBias`/`Fused...`: "
        "fused ops); share: the type's summed op time over the profiled wall time (ops that run "
        "in parallel can add up to more than 100%).",
    ]
    return "\n".join(lines)
