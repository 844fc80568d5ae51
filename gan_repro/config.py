"""Experiments as declarations: one YAML file, typed and validated, with ``key=value`` overrides.

A declaration (``experiments/<thesis>/<name>.yaml``) says everything about an experiment by
name; :mod:`gan_repro.runner` executes any of them. Its top-level keys are the fields of
:class:`Declaration`; unknown keys are refused. A run's configuration is resolved in layers,
each merged over the one before (OmegaConf merge: nested keys override one by one):

1. the family's typed defaults (its ``Config`` dataclass) and :class:`TrainerOptions`;
2. the declaration's base sections ``model``, ``trainer``, ``data``, ``eval``, ``resources``;
3. the run's overrides (``runs.<run>``), swept values included;
4. the scale's overrides (``scales.<scale>``), then the scale's per-run ones
   (``scales.<scale>.runs.<run>``, by the run's name or the name of the sweep it came from);
5. the command line's ``model.*``, ``trainer.*``, ``data.*``, ``eval.*`` and ``resources.*``
   overrides, which apply to every selected run (``runs.<run>.<section>.<key>=v`` to one run).

``model`` is validated against the family's ``Config`` and ``trainer`` against
:class:`TrainerOptions`: a misspelt key or a value of the wrong type stops with the key and the
fix. A scale changes counts (steps, batch sizes, data size, evaluation sizes), never the
architecture; :func:`check_scales` enforces that no scale touches an architecture key (the
image size is data, not architecture: the face-aging CycleGAN's counts do not depend on it).

A sweep expands one run into a grid of runs::

    runs:
      share:
        model: {shared_discriminator_layers: 3}
        sweep:
          grid: {model.shared_generator_layers: [4, 3, 2, 1]}
          name: "share{shared_generator_layers}"

gives the runs ``share4``, ``share3``, ``share2`` and ``share1``.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gan_repro.errors import BadOptionError, DatasetMissingError
from gan_repro.registry import FAMILIES

#: Compute dtypes. bfloat16 keeps float32's exponent range, so the GAN losses need no loss
#: scaling; float16 would (and the gradient penalty's second derivative is the first to underflow).
PRECISIONS = ("float32", "mixed_bfloat16")


@dataclass
class TrainerOptions:
    """The ``trainer:`` section of a declaration (:class:`gan_repro.training.trainer.Trainer`).

    ``jit_compile``: ``true`` (XLA), ``false`` (plain ``tf.function``) or unset (auto: XLA on
    a GPU, plain ``tf.function`` on a CPU, where XLA's convolutions are slower; plain
    ``tf.function`` under ``deterministic``). ``deterministic``: two runs of one declaration
    and seed on one machine give bitwise the same history and weights, at some cost in speed
    (:func:`gan_repro.training.trainer.deterministic_runtime`). The run's ``config.json``
    records the resolved compile mode, the devices and what ``deterministic`` turned on.
    """

    steps: int
    seed: int = 2020  # the authors' tf/np seed (spec 10.1)
    log_every: int = 10
    checkpoint_every: int = 1000
    sample_every: int = 1000
    keep_checkpoints: int = 3
    jit_compile: bool | None = None  # None: auto, by device
    precision: str = "float32"
    progress: bool = True
    deterministic: bool = False


#: The sections of a run configuration (what ``key=value`` overrides may start with).
SECTIONS = ("model", "trainer", "data", "eval", "resources")
#: Keys a scale may not change: they are architecture, not counts (DESIGN.md "Scales").
ARCHITECTURE_KEYS = frozenset(
    {
        "generator",
        "discriminator",
        "generators",
        "discriminators",
        "encoder",
        "latent_dim",
        "noise_dim",
        "n_residual",
        "residual",
        "shared_generator_layers",
        "shared_discriminator_layers",
        "model",
        "prelu",
    }
)
#: The runner's own options (``scale=smoke runs=SL,SLFR out=runs``), apart from the sections.
RUNNER_KEYS = ("scale", "runs", "out", "data_dir", "evaluate", "progress")
#: The folder holding the declarations (installed beside the library; read as data, never
#: imported by the library).
EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"


@dataclass
class Declaration:
    """The schema of a declaration file (see the module docstring)."""

    name: str  # the results folder: runs/<name>/<scale>/
    title: str  # the report's title
    thesis: str  # which thesis and spec sections
    family: str  # default family (registry name); a run may name another
    summary: str = ""
    hooks: list[str] = field(default_factory=list)  # modules that register the experiment's own
    model: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # {dataset: NAME, ...its options}
    eval: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)  # {name: hook | {hook:, ...}}
    runs: dict[str, Any] = field(default_factory=dict)
    scales: dict[str, Any] = field(default_factory=dict)
    figures: list[Any] = field(default_factory=list)  # [{figure: NAME, ...its options}]
    evaluators: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)  # {published:, tables:, sections:}
    choices: list[str] = field(default_factory=list)  # where the thesis is ambiguous: ours
    path: str = ""  # where it was read from (filled in by load_declaration)

    @property
    def folder(self) -> Path:
        return Path(self.path).parent

    @property
    def key(self) -> str:
        """``thesis/name`` as ``gan-repro list`` prints it (the file's place under experiments/)."""
        p = Path(self.path)
        try:
            return p.relative_to(EXPERIMENTS_DIR).with_suffix("").as_posix()
        except ValueError:
            return p.stem


@dataclass
class RunConfig:
    """One run, fully resolved: what the runner trains and records in ``config.json``."""

    experiment: str
    run: str
    scale: str
    family: str
    model: Any  # the family's Config instance
    trainer: TrainerOptions
    data: dict[str, Any]
    eval: dict[str, Any]
    resources: dict[str, Any]
    meta: dict[str, Any]  # the run's free-form notes (thesis figure, thesis steps, ...)

    def model_dict(self) -> dict:
        return _plain(dataclasses.asdict(self.model))


def _plain(value):
    """Tuples as lists, as JSON stores them (so a stored config compares equal to a new one)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fail(what: str, error: Exception, section: str = "") -> BadOptionError:
    """A config error for people: where, which key (``model.lr``), what is wrong."""
    msg = str(error).split("\n")[0]
    key = getattr(error, "full_key", None)
    if key:
        key = f"{section}.{key}" if section else key
        return BadOptionError(f"{what}: {key}: {msg}")
    return BadOptionError(f"{what}: {msg}")


# ----------------------------------------------------------------------------------- loading
def declaration_paths(root: Path = EXPERIMENTS_DIR) -> list[Path]:
    return sorted(p for p in root.glob("*/*.yaml"))


def find_declaration(name: str) -> Path:
    """A declaration by file path, by ``thesis/name`` or by its ``name:`` (``scogan-toy-ring``)."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    candidate = EXPERIMENTS_DIR / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    known = {}
    for path in declaration_paths():
        decl = OmegaConf.load(path)
        known[str(decl.get("name"))] = path
        if decl.get("name") == name:
            return path
    keys = sorted(load_declaration(p).key for p in known.values())
    raise BadOptionError(
        f"no experiment {name!r}; declared: {', '.join(keys)} (or their names "
        f"{', '.join(sorted(known))}); `gan-repro list` shows them with their runs and scales"
    )


def load_declaration(name_or_path: str | Path) -> Declaration:
    """Read and validate a declaration; expand its sweeps."""
    path = find_declaration(str(name_or_path))
    try:
        raw = OmegaConf.load(path)
        decl = OmegaConf.merge(OmegaConf.structured(Declaration), raw, {"path": str(path)})
    except OmegaConfBaseException as e:
        raise _fail(f"{path}", e) from None
    decl = OmegaConf.to_object(decl)
    decl.runs = expand_sweeps(decl.runs, path)
    for scale in ("paper", "smoke"):
        if scale not in decl.scales:
            raise BadOptionError(f"{path}: every experiment declares a {scale!r} scale")
    check_scales(decl)
    return decl


def _nested(dotted: dict[str, Any]) -> dict:
    """``{"model.lr": 1}`` -> ``{"model": {"lr": 1}}``."""
    out: dict = {}
    for key, value in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def expand_sweeps(runs: dict, path) -> dict[str, dict]:
    """Replace every run holding a ``sweep: {grid: {dotted.key: [values]}, name: fmt}`` by the
    runs of its grid; each remembers the sweep it came from (``meta.sweep``)."""
    out: dict[str, dict] = {}
    for name, spec in runs.items():
        spec = dict(spec or {})
        sweep = spec.pop("sweep", None)
        if not sweep:
            out[name] = spec
            continue
        grid = sweep.get("grid") or {}
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            short = {k.split(".")[-1]: v for k, v in zip(keys, values, strict=True)}
            fmt = sweep.get("name") or (name + "-" + "-".join(f"{{{k}}}" for k in short))
            run_name = fmt.format(**short)
            if run_name in out:
                raise BadOptionError(f"{path}: the sweep of {name!r} names two runs {run_name!r}")
            merged = OmegaConf.to_container(
                OmegaConf.merge(spec, _nested(dict(zip(keys, values, strict=True))))
            )
            merged.setdefault("meta", {})["sweep"] = name
            out[run_name] = merged
    return out


def check_scales(decl: Declaration) -> None:
    """A scale changes counts, never the architecture."""
    for scale, spec in decl.scales.items():
        layers = [spec.get("model", {})] + [
            (r or {}).get("model", {}) for r in (spec.get("runs") or {}).values()
        ]
        bad = sorted(set().union(*map(set, layers)) & ARCHITECTURE_KEYS)
        if bad:
            raise BadOptionError(
                f"{decl.path}: scale {scale!r} changes the architecture key(s) {bad}; a scale "
                "changes counts only: put architecture in the run or the base model section"
            )


# ---------------------------------------------------------------------------------- overrides
@dataclass
class Overrides:
    """The command line: the runner's options and the dotted section overrides."""

    runner: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # {"model.lr": 1e-4, ...}
    per_run: dict[str, dict[str, Any]] = field(default_factory=dict)  # {run: {"model.lr": ..}}


def parse_overrides(tokens: list[str]) -> Overrides:
    """``["scale=smoke", "runs=SL,SLFR", "trainer.steps=200", "model.lr=1e-4"]``; values are
    parsed as YAML (``1e-4`` a float, ``true`` a bool, ``[1,2]`` a list)."""
    out = Overrides()
    for token in tokens:
        if "=" not in token:
            raise BadOptionError(
                f"{token!r} is not key=value; e.g. scale=smoke runs=SL trainer.steps=200"
            )
        key, text = token.split("=", 1)
        value = OmegaConf.create({"v": text}).v if text == "" else _yaml_value(text)
        head = key.split(".")[0]
        if key in RUNNER_KEYS:
            out.runner[key] = value
        elif head in SECTIONS:
            out.sections[key] = value
        elif head == "runs" and key.count(".") >= 2:
            _, run, rest = key.split(".", 2)
            out.per_run.setdefault(run, {})[rest] = value
        else:
            raise BadOptionError(
                f"unknown option {key!r}: use one of {', '.join(RUNNER_KEYS)}, a section key "
                f"({', '.join(s + '.KEY' for s in SECTIONS)}) or runs.RUN.SECTION.KEY"
            )
    return out


def _yaml_value(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


# --------------------------------------------------------------------------------- resolution
def select_runs(decl: Declaration, chosen) -> list[str]:
    """``None``/``"all"``: every run; else a comma list (or list) of run or sweep names."""
    if chosen in (None, "all"):
        return list(decl.runs)
    names = chosen.split(",") if isinstance(chosen, str) else list(chosen)
    out = []
    for name in names:
        matches = [r for r, s in decl.runs.items() if name in (r, s.get("meta", {}).get("sweep"))]
        if not matches:
            raise BadOptionError(
                f"{decl.name} has no run {name!r}; its runs: {', '.join(decl.runs)}"
            )
        out += [m for m in matches if m not in out]
    return out


def resolve_run(
    decl: Declaration, run: str, scale: str, overrides: Overrides | None = None
) -> RunConfig:
    """The run's configuration after the five layers of the module docstring."""
    overrides = overrides or Overrides()
    if scale not in decl.scales:
        raise BadOptionError(
            f"{decl.name} has no scale {scale!r}; its scales: {', '.join(decl.scales)}"
        )
    spec = dict(decl.runs[run])
    scale_spec = dict(decl.scales[scale] or {})
    scale_runs = scale_spec.pop("runs", None) or {}
    sweep = spec.get("meta", {}).get("sweep")
    layers = [
        {"family": decl.family, **{s: getattr(decl, s) for s in SECTIONS}, "meta": {}},
        spec,
        scale_spec,
        scale_runs.get(sweep) or {} if sweep else {},
        scale_runs.get(run) or {},
        _nested(overrides.sections),
        _nested(overrides.per_run.get(run, {})),
    ]
    what = f"{decl.name} run {run!r} at scale {scale!r}"
    try:
        merged = OmegaConf.merge(*[OmegaConf.create(layer) for layer in layers])
        unknown = set(merged) - {"family", "meta", *SECTIONS}
        if unknown:
            raise BadOptionError(
                f"{what}: unknown key(s) {sorted(unknown)}; a run or scale may set "
                f"family, meta and {', '.join(SECTIONS)}"
            )
    except OmegaConfBaseException as e:
        raise _fail(what, e) from None
    family = FAMILIES.get(merged.family)
    model = _typed(family.Config, merged.model, what, "model")
    trainer = _typed(TrainerOptions, merged.trainer, what, "trainer")
    plain = OmegaConf.to_container(merged, resolve=True)
    return RunConfig(
        experiment=decl.name,
        run=run,
        scale=scale,
        family=merged.family,
        model=model,
        trainer=trainer,
        data=plain["data"],
        eval=plain["eval"],
        resources=plain["resources"],
        meta=plain["meta"],
    )


def _typed(schema: type, values, what: str, section: str):
    """``values`` validated against the dataclass ``schema`` (unknown keys, wrong types and the
    dataclass's own ``__post_init__`` checks are refused, naming the key)."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), values))
    except OmegaConfBaseException as e:
        raise _fail(what, e, section) from None
    except BadOptionError as e:
        raise BadOptionError(f"{what}: {section}: {e}") from None
    except (TypeError, ValueError) as e:
        raise _fail(what, e, section) from None


def describe(decl: Declaration) -> str:
    """One experiment as ``gan-repro list`` prints it."""
    lines = [f"{decl.key}  ({decl.name}): {decl.title}"]
    lines.append(f"    runs:   {', '.join(decl.runs)}")
    lines.append(f"    scales: {', '.join(decl.scales)}")
    return "\n".join(lines)


def all_declarations() -> list[Declaration]:
    paths = declaration_paths()
    if not paths:
        raise DatasetMissingError(f"no declarations found under {EXPERIMENTS_DIR}")
    return [load_declaration(p) for p in paths]
