"""The one runner: data -> every run (resume, skip finished, refuse changed, record, fit) ->
evaluate -> figures -> report, for any declaration (``gan-repro train NAME key=value ...``).

Everything an experiment uses is named in its declaration (:mod:`gan_repro.config`) and built
from the registries (:mod:`gan_repro.registry`):

* ``data: {dataset: NAME, ...}``: a ``DATASETS`` entry ``fn(ctx, **options) -> Inputs`` gives
  the family's input arrays, a provenance record and resources (e.g. the frozen classifier that
  pruned SVHN); loaded once per distinct ``data`` section and shared by the runs;
* ``resources: {name: HOOK | {hook: HOOK, ...}}``: ``HOOKS`` entries ``fn(ctx, **options)``
  (e.g. the VGG19 features of the perceptual loss), built once and handed to the family;
* ``family`` and ``model``: a ``FAMILIES`` class, built with its ``Config`` from the resolved
  ``model`` section (:meth:`gan_repro.training.family.Family.from_inputs`);
* ``figures: [{figure: NAME, ...}]``: ``FIGURES`` entries ``fn(ctx, **options)``;
* ``evaluators: [NAME, ...]``: ``EVALUATORS`` entries ``fn(run: EvalRun) -> dict``, merged
  into the run's ``metrics.json``;
* ``report: {sections: [NAME, ...], published: CSV, ...}``: ``REPORTS`` entries, see
  :mod:`gan_repro.report`.

An experiment's own pieces (what YAML cannot say) live in the modules its ``hooks:`` list names;
the runner imports them by that name, the library never does.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gan_repro.catalog import DATASETS, EVALUATORS, FAMILIES, FIGURES, HOOKS
from gan_repro.config import (
    Declaration,
    Overrides,
    RunConfig,
    load_declaration,
    parse_overrides,
    resolve_run,
    select_runs,
)
from gan_repro.data.registered import Inputs
from gan_repro.errors import BadOptionError
from gan_repro.io import atomic_write, environment, read_json, write_json
from gan_repro.training.runlock import RunLock
from gan_repro.training.state import finished_step, restore_trained
from gan_repro.training.trainer import Trainer


@dataclass
class Context:
    """One experiment at one scale: where it writes, and the data and resources it loaded."""

    declaration: Declaration
    scale: str
    out: Path  # runs/<name>/<scale>
    data_dir: str | None = None
    seed: int = 2020
    progress: bool = True
    records: dict[str, Any] = field(default_factory=dict)  # data provenance, for data.json
    configs: dict[str, RunConfig] = field(default_factory=dict)  # the resolved runs, by name
    _inputs: dict[str, Inputs] = field(default_factory=dict)
    _resources: dict[str, Any] = field(default_factory=dict)

    @property
    def paper(self) -> bool:
        """Paper scale: the full datasets and pretrained networks are required."""
        return self.scale == "paper"

    def inputs(self, spec: dict) -> Inputs:
        """The ``data`` section's inputs, loaded once per distinct section."""
        key = json.dumps(spec, sort_keys=True)
        if key not in self._inputs:
            options = dict(spec)
            name = options.pop("dataset", None)
            if not name:
                raise BadOptionError(
                    f"{self.declaration.path}: the data section names no dataset "
                    "(data: {dataset: NAME, ...})"
                )
            prepare = options.pop("prepare", None) or []
            hook_options = {h: options.pop(h, None) or {} for h in prepare}
            loaded = DATASETS.build(name, ctx=self, **options)
            for hook in prepare:
                loaded = HOOKS.build(hook, ctx=self, inputs=loaded, **hook_options[hook])
            for warning in loaded.warnings:
                print(warning, file=sys.stderr, flush=True)
            self._inputs[key] = loaded
            self.records[_record_key(spec, self.records)] = loaded.record
        return self._inputs[key]

    def resource(self, name: str, spec) -> Any:
        """A resource hook's result (``spec`` is a hook name or ``{hook: NAME, ...}``), once."""
        spec = {"hook": spec} if isinstance(spec, str) else dict(spec)
        key = json.dumps({"name": name, **spec}, sort_keys=True)
        if key not in self._resources:
            hook = spec.pop("hook")
            self._resources[key] = HOOKS.build(hook, ctx=self, **spec)
        return self._resources[key]

    def load_run(self, run: str):
        """``(family, step)`` of run ``run`` of this experiment (:func:`load_run`)."""
        return load_run(self.out / run)

    def warnings(self) -> list[str]:
        return [w for i in self._inputs.values() for w in i.warnings]


def _record_key(spec: dict, records: dict) -> str:
    """``utkface-cgan`` for ``{dataset: utkface, variant: cgan}``: the names in the section."""
    key = "-".join(str(spec[k]) for k in sorted(spec) if isinstance(spec[k], str)) or "data"
    n = sum(1 for k in records if k == key or k.startswith(key + "#"))
    return key if n == 0 else f"{key}#{n + 1}"


@dataclass
class EvalRun:
    """What an evaluator gets: the run folder, its stored config, the experiment context, the
    run's inputs and the ``eval`` options (the resolved section, with command-line overrides)."""

    run_dir: Path
    config: dict
    ctx: Context
    options: dict
    cache: dict = field(default_factory=dict)  # what evaluators of one run share (fakes, ...)

    @property
    def inputs(self) -> Inputs:
        return self.ctx.inputs(self.config["data"]["spec"])

    def load(self):
        """``(family, step)`` at the newest checkpoint (see :func:`load_run`)."""
        return load_run(self.run_dir)


# --------------------------------------------------------------------------------- run folders
def load_run(run_dir) -> tuple[Any, int]:
    """Any run folder's family, built from its ``config.json`` and restored from its newest
    checkpoint, without training data: ``(family, step)``."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    cls = FAMILIES.get(config["family"])
    model = cls.Config(**config["model"])
    family = cls.for_inference(model, seed=config["trainer"]["seed"])
    step = restore_trained(run_dir, family.models)
    return family, step


def run_context(run_dir, config: dict | None = None) -> Context:
    """The experiment context of a run folder, from its ``config.json`` alone: its declaration
    (hooks imported), scale, results folder, data dir and seed."""
    config = config or read_run_config(run_dir)
    decl = load_declaration(config.get("declaration") or config["experiment"])
    import_hooks(decl)
    return Context(
        decl,
        config["scale"],
        Path(run_dir).parent,
        data_dir=config["data"].get("data_dir"),
        seed=config["trainer"]["seed"],
    )


def run_inputs(run_dir) -> Inputs:
    """The inputs a run folder was trained on (its recorded data section and data dir, at its
    scale; the experiment's prepare hooks reuse what they saved in the results folder), for
    notebooks: ``run_inputs("runs/mnist-usps-cyclegan28/cpu/cyclegan").held_out``."""
    config = read_run_config(run_dir)
    return run_context(run_dir, config).inputs(config["data"]["spec"])


def read_run_config(run_dir) -> dict:
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise BadOptionError(f"{path} not found: {run_dir} is not a run folder")
    return read_json(path)


def check_unchanged(run_dir: Path, record: dict) -> None:
    """Refuse to resume a run folder that holds other settings (it would mix two experiments)."""
    path = run_dir / "config.json"
    if not path.exists():
        return
    before = read_json(path)
    changed = {}
    for section in ("family", "model"):
        old, new = before.get(section), record[section]
        if isinstance(new, dict):
            changed.update({k: (old.get(k), v) for k, v in new.items() if (old or {}).get(k) != v})
        elif old != new:
            changed[section] = (old, new)
    old_spec = before.get("data", {}).get("spec")
    if old_spec is not None and old_spec != record["data"]["spec"]:
        changed["data"] = (old_spec, record["data"]["spec"])
    if changed:
        raise BadOptionError(
            f"{run_dir} holds a run with other settings {changed} (old, new); resuming it "
            "would mix two experiments: pass another out=... or delete that folder"
        )


def config_record(
    ctx: Context, cfg: RunConfig, data_record: dict | None = None, run: dict | None = None
) -> dict:
    """``config.json``: the resolved run, the declaration's choices, data and environment;
    ``run`` is what the trainer resolved (:meth:`Trainer.run_record`: devices, compile mode,
    precision, what ``deterministic`` turned on)."""
    decl = ctx.declaration
    thesis = decl.thesis + (f"; {cfg.meta['thesis']}" if cfg.meta.get("thesis") else "")
    return {
        "experiment": decl.name,
        "declaration": decl.key,
        "variant": cfg.run,
        "scale": cfg.scale,
        "thesis": thesis,
        "family": cfg.family,
        "model": cfg.model_dict(),
        "trainer": vars(cfg.trainer),
        "data": {
            **(data_record or {}),
            "spec": cfg.data,
            "data_dir": None if ctx.data_dir is None else str(Path(ctx.data_dir).resolve()),
        },
        "eval": cfg.eval,
        "resources": cfg.resources,
        "meta": cfg.meta,
        "choices": list(decl.choices),
        "environment": environment(),
        **({"run": run} if run is not None else {}),
    }


def make_family(ctx: Context, cfg: RunConfig):
    """The run's family on its data and resources (not built yet): ``(family, inputs)``."""
    inputs = ctx.inputs(cfg.data)
    resources = dict(inputs.resources)
    resources.update({k: ctx.resource(k, spec) for k, spec in cfg.resources.items()})
    family = FAMILIES.get(cfg.family).from_inputs(
        cfg.model, inputs.arrays, seed=cfg.trainer.seed, resources=resources
    )
    return family, inputs


def build_family(name: str, run: str, tokens=(), out: Path | None = None):
    """Run ``run`` of declaration ``name`` as a built family on its smoke-scale data (the real
    bundled samples), untrained: for benchmarks and notebooks. ``tokens`` override as on the
    command line, e.g. ``["model.batch_size=128"]`` for the paper's batch."""
    import tempfile

    s = prepare(name, ["scale=smoke", f"runs={run}", *tokens])
    cfg = s.configs[0]
    out = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="gan-repro-"))
    ctx = Context(s.declaration, "smoke", out, seed=cfg.trainer.seed, configs={run: cfg})
    family, _ = make_family(ctx, cfg)
    family.build()
    return family


def is_trained(run_dir: Path, steps: int) -> bool:
    """A run folder trained to ``steps`` and finished (its final grid written): kept as is."""
    return finished_step(run_dir / "checkpoints") >= steps and (run_dir / "grid.png").exists()


def train_run(ctx: Context, cfg: RunConfig) -> float:
    """Train one run into ``ctx.out/<run>`` (resuming if it exists); seconds spent.

    The run folder's lock (:class:`RunLock`) is held from before ``config.json`` is read until
    the last figure is written: a second process on the same folder is refused at once."""
    run_dir = ctx.out / cfg.run
    with RunLock(run_dir) as lock:
        return _train_locked(ctx, cfg, run_dir, lock)


def _train_locked(ctx: Context, cfg: RunConfig, run_dir: Path, lock: RunLock) -> float:
    name = ctx.declaration.name
    check_unchanged(run_dir, config_record(ctx, cfg))
    steps = cfg.trainer.steps
    if is_trained(run_dir, steps):
        print(f"[{name}] {cfg.run}: already trained to step {steps}, kept", flush=True)
        return 0.0
    family, inputs = make_family(ctx, cfg)
    options = replace(
        cfg.trainer,
        checkpoint_every=min(cfg.trainer.checkpoint_every, steps),
        progress=cfg.trainer.progress and ctx.progress,
    )
    trainer = Trainer(family, run_dir, options, lock=lock)
    if cfg.scale == "paper" and not trainer.devices["gpus"]:
        print(
            f"[{name}] {cfg.run}: WARNING: paper scale but no GPU found; training goes on on "
            f"the CPU ({trainer.devices['cpu_count']} cores) and will be very slow. For a GPU "
            'install the gpu extra: pip install -e ".[gpu]"',
            file=sys.stderr,
            flush=True,
        )
    run = trainer.run_record()
    record = config_record(ctx, replace(cfg, trainer=options), inputs.record, run)
    write_json(run_dir / "config.json", record)
    t0 = time.perf_counter()
    trainer.fit()
    elapsed = time.perf_counter() - t0
    from gan_repro.viz.figures import loss_curves

    loss_curves(run_dir / "history.csv", run_dir / "figures" / "losses.png", f"{name} {cfg.run}")
    last = sorted((run_dir / "samples").glob("step_*.png"))[-1]
    atomic_write(run_dir / "grid.png", last.read_bytes())
    return elapsed


# ------------------------------------------------------------------------------------ stages
def import_hooks(decl: Declaration) -> None:
    """Import the experiment's own modules (they register its datasets, evaluators, ...)."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    for module in decl.hooks:
        importlib.import_module(module)


def make_figures(ctx: Context) -> list[Path]:
    """Every figure of the declaration (``FIGURES`` entries ``fn(ctx, **options)``); a figure
    whose runs are missing draws what it has (figures read run folders, not memory)."""
    made: list[Path] = []
    for spec in ctx.declaration.figures:
        options = dict(spec)
        name = options.pop("figure")
        result = FIGURES.build(name, ctx=ctx, **options)
        made += [result] if isinstance(result, Path) else list(result or [])
    return made


def evaluate_run(run_dir, ctx: Context | None = None, eval_overrides: dict | None = None) -> dict:
    """Write ``run_dir/metrics.json`` with every evaluator the declaration names."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    ctx = ctx or run_context(run_dir, config)
    run = EvalRun(run_dir, config, ctx, {**config.get("eval", {}), **(eval_overrides or {})})
    metrics: dict = {}
    for name in ctx.declaration.evaluators:
        metrics.update(EVALUATORS.build(name, run=run))
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def write_experiment_report(ctx: Context, runs: list[str] | None = None) -> Path:
    from gan_repro.report import write_report

    decl = ctx.declaration
    names = runs if runs is not None else list(decl.runs)
    dirs = [ctx.out / r for r in names if (ctx.out / r / "config.json").exists()]
    return write_report(decl, dirs, ctx.out / "report.md")


@dataclass
class Session:
    """A parsed command line: the declaration, the scale, the chosen runs and the overrides."""

    declaration: Declaration
    overrides: Overrides
    scale: str
    runs: list[str]
    out: Path
    evaluate: bool
    configs: list[RunConfig]


def prepare(name: str, tokens: list[str] | None = None) -> Session:
    """Load the declaration and resolve every chosen run (all are validated before training)."""
    decl = load_declaration(name)
    import_hooks(decl)
    ov = parse_overrides(list(tokens or []))
    scale = str(ov.runner.get("scale", "paper"))
    runs = select_runs(decl, ov.runner.get("runs"))
    unknown = set(ov.per_run) - set(decl.runs)
    if unknown:
        raise BadOptionError(f"{decl.name} has no run(s) {sorted(unknown)} to override")
    configs = [resolve_run(decl, r, scale, ov) for r in runs]
    out = Path(str(ov.runner.get("out", "runs"))) / decl.name / scale
    return Session(decl, ov, scale, runs, out, bool(ov.runner.get("evaluate", True)), configs)


def run_experiment(name: str, tokens: list[str] | None = None) -> Path:
    """``gan-repro train NAME key=value ...``: the whole experiment; returns its results folder."""
    s = prepare(name, tokens)
    s.out.mkdir(parents=True, exist_ok=True)
    ctx = experiment_context(s)
    timings = {}
    for cfg in s.configs:
        print(f"[{s.declaration.name}] {cfg.run}: {s.scale} scale", flush=True)
        timings[cfg.run] = train_run(ctx, cfg)
    return finish_experiment(s, ctx, timings)


def experiment_context(s: Session) -> Context:
    """The context the runs of session ``s`` train in (its results folder, data dir, seed)."""
    return Context(
        s.declaration,
        s.scale,
        s.out,
        data_dir=s.overrides.runner.get("data_dir"),
        seed=s.configs[0].trainer.seed if s.configs else 2020,
        progress=bool(s.overrides.runner.get("progress", True)),
        configs={cfg.run: cfg for cfg in s.configs},
    )


def finish_experiment(
    s: Session, ctx: Context, timings: dict[str, float], warnings: tuple | list = ()
) -> Path:
    """The experiment-level stages after training: ``data.json`` (from ``ctx.records``),
    ``timings.json``, every run's evaluation (unless ``evaluate=false``), the figures and the
    report; then the data warnings (``warnings``, e.g. gathered from worker processes, and the
    context's own). Returns the results folder."""
    write_data_record(ctx)
    write_timings(s.out / "timings.json", timings)
    if s.evaluate:
        for cfg in s.configs:
            print(f"[{s.declaration.name}] evaluating {cfg.run}", flush=True)
            evaluate_run(s.out / cfg.run, ctx)
    made = make_figures(ctx)  # after the metrics: a figure may plot them
    report = write_experiment_report(ctx)
    print(report.read_text())
    for warning in dict.fromkeys([*warnings, *ctx.warnings()]):
        print(warning, file=sys.stderr, flush=True)
    print(f"[{s.declaration.name}] results in {s.out}; figures: {', '.join(p.name for p in made)}")
    return s.out


def write_timings(path: Path, timings: dict[str, float]) -> None:
    """``timings.json``: seconds spent training each run, merged with the file's earlier ones
    (a run kept as finished spent 0 s this time and keeps the time it took)."""
    before = read_json(path).get("seconds_per_run", {}) if path.exists() else {}
    merged = {**before, **{k: v for k, v in timings.items() if v or k not in before}}
    write_json(path, {"seconds_per_run": merged})


def write_data_record(ctx: Context) -> None:
    """``data.json``: where the data came from. A declaration with one data section: its record;
    with several (face aging's variants): the records by name, merged with the file's earlier
    ones (runs skipped as finished load no data)."""
    path = ctx.out / "data.json"
    decl = ctx.declaration
    sections = {json.dumps(resolve_run(decl, r, ctx.scale).data, sort_keys=True) for r in decl.runs}
    if len(sections) > 1:
        write_json(path, {**(read_json(path) if path.exists() else {}), **ctx.records})
    elif ctx.records:
        write_json(path, next(iter(ctx.records.values())))
