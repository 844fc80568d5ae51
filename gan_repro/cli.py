"""``gan-repro``: the suite's command line.

gan-repro list                         every declared experiment with its runs and scales
gan-repro train NAME [key=value ...]   run an experiment, e.g. ``gan-repro train scogan/mnist2svhn
                                       scale=smoke runs=SL,SLFR trainer.steps=200``
gan-repro sweep NAME [key=value ...] [--backend local|ray] [--workers N] [--retries K]
                                       the same runs in parallel processes (one per GPU, or a
                                       Ray task each), then evaluation, figures, report once
gan-repro show NAME [key=value ...]    the resolved configuration of each run, without training
gan-repro models [--json]              every registered network: source, shapes, parameters
gan-repro evaluate RUN_DIR... [eval.KEY=V]  write each run's metrics.json (its evaluators)
gan-repro report RUN_DIR...            the thesis-vs-ours report of the runs' results folder
gan-repro weights lpips [--net alex]   convert the official LPIPS release into the cache
gan-repro data DATASET [--split S] [--data-dir D] [--source S]   load and describe a dataset
gan-repro data stats utkface [--data-dir D] [--scheme S]   UTKFace names and age-group counts
gan-repro bench [--device gpu] ...     training-step benchmark (eager / tf.function / XLA)

TensorFlow, CUDA and absl log lines and Python warnings are silenced unless ``--verbose`` is
given (anywhere on the line); an exported ``TF_CPP_MIN_LOG_LEVEL`` is respected.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import importlib.util
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from gan_repro.errors import GanReproError, check_choice

#: A log line of TensorFlow's C++ core, CUDA or absl (``I0000 00:00:17.3 123 port.cc:153] ...``,
#: ``2024-01-01 10:00:00.1: W tensorflow/...``), which the quiet mode drops at TF's import.
TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


def configure_output(verbose: bool) -> None:
    """Before TensorFlow is imported: unless ``verbose``, TF's C++ logs at level 3 (errors
    too), absl/TF Python loggers at ERROR, Python warnings off (unless ``-W`` or
    PYTHONWARNINGS asks), and the lines TF's import writes before its log level applies (the
    absl ``InitializeLog`` banner, oneDNN, "Could not find cuda drivers") filtered out of
    stderr. ``verbose`` keeps the level of before (``TF_CPP_MIN_LOG_LEVEL=2``)."""
    if verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("absl", "tensorflow", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    if "tensorflow" not in sys.modules and not any(
        isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Import ``tensorflow`` (once, whoever imports it first) with :func:`filtered_stderr`."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with filtered_stderr():
            self._loader.exec_module(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


@contextlib.contextmanager
def filtered_stderr(pattern: re.Pattern = TF_LOG_LINE):
    """Capture file descriptor 2 (C++ libraries write there directly), then write back every
    line that does not match ``pattern`` (everything, if the block raised)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        ok = False
        try:
            yield
            ok = True
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines = tmp.read().decode(errors="replace").splitlines(keepends=True)
            kept = lines if not ok else [line for line in lines if not pattern.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def cmd_list(args) -> None:
    from gan_repro.config import all_declarations, describe

    for decl in all_declarations():
        print(describe(decl))


def cmd_train(args, rest) -> None:
    from gan_repro.runner import run_experiment

    run_experiment(args.experiment, rest)


def cmd_sweep(args, rest) -> None:
    from gan_repro.sweep import sweep

    sweep(
        args.experiment,
        rest,
        backend=args.backend,
        workers=args.workers,
        retries=args.retries,
        address=args.address,
        verbose=args.verbose,
    )


def cmd_show(args, rest) -> None:
    import dataclasses

    from gan_repro.runner import prepare

    session = prepare(args.experiment, rest)
    for cfg in session.configs:
        print(
            f"# {session.declaration.name} / {cfg.run} ({session.scale}) -> {session.out / cfg.run}"
        )
        resolved = {
            "family": cfg.family,
            "model": cfg.model_dict(),
            "trainer": dataclasses.asdict(cfg.trainer),
            "data": cfg.data,
            "eval": cfg.eval,
            "resources": cfg.resources,
            "meta": cfg.meta,
        }
        print(json.dumps(resolved, indent=2))


def cmd_models(args) -> None:
    from gan_repro.models.registry import describe, entries

    rows = [describe(e) for e in entries()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"{r['name']}  ({r['source']})")
        for i, outs in enumerate(r["outputs"], start=1):
            shapes = ", ".join("x".join(str(d) for d in s[1:]) for s in outs)
            label = f"model {i}" if len(r["outputs"]) > 1 else "outputs"
            print(f"    {label}: {shapes}   params {r['per_model_params'][i - 1]:,}")
        print(f"    total {r['total_params']:,}   trainable {r['trainable_params']:,}")


def cmd_data(args) -> None:
    import numpy as np

    from gan_repro.data import load_mnist, load_svhn, load_usps

    loaders = {"mnist": load_mnist, "svhn": load_svhn, "usps": load_usps}
    check_choice("dataset", args.dataset, loaders)
    d = loaders[args.dataset](args.split, args.data_dir, args.source)
    counts = np.bincount(d.labels, minlength=10)
    print(f"{d.name} {args.split}: {len(d.images)} images {d.images.shape[1:]} {d.images.dtype}")
    print(f"  from: {d.provenance}")
    print("  per class: " + " ".join(f"{i}:{c}" for i, c in enumerate(counts)))


def cmd_evaluate(args, rest) -> None:
    from gan_repro.config import parse_overrides
    from gan_repro.runner import evaluate_run

    overrides = parse_overrides(rest)
    extra = {k.split(".", 1)[1]: v for k, v in overrides.sections.items() if k.startswith("eval.")}
    if set(overrides.sections) - {f"eval.{k}" for k in extra} or overrides.runner:
        raise GanReproError("evaluate takes only eval.KEY=VALUE overrides")
    for run in args.runs:
        metrics = evaluate_run(Path(run), eval_overrides=extra)
        print(f"{run}: metrics.json written ({', '.join(sorted(metrics))})")


def cmd_report(args) -> None:
    from gan_repro.config import load_declaration
    from gan_repro.runner import Context, import_hooks, read_run_config, write_experiment_report

    folders = sorted({Path(r).resolve().parent for r in args.runs})
    for folder in folders:
        runs = [Path(r).resolve() for r in args.runs if Path(r).resolve().parent == folder]
        config = read_run_config(runs[0])
        decl = load_declaration(config.get("declaration") or config["experiment"])
        import_hooks(decl)
        ctx = Context(decl, config["scale"], folder)
        print(write_experiment_report(ctx, [r.name for r in runs]).read_text())


def _guarded(fn) -> int:
    """Run ``fn``; an error the suite raises on purpose becomes a message and exit code 2."""
    try:
        return fn() or 0
    except GanReproError as e:
        print(f"gan-repro: error: {e}", file=sys.stderr)
        return 2


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = "--verbose" in argv
    argv = [a for a in argv if a != "--verbose"]
    configure_output(verbose)
    parser = argparse.ArgumentParser(prog="gan-repro", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="keep TensorFlow's and absl's log lines and Python warnings (anywhere on the line)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every declared experiment with its runs and scales")
    m = sub.add_parser("models", help="list every builder with its parameter counts")
    m.add_argument("--json", action="store_true")
    for name, what in (("train", "run an experiment"), ("show", "print its resolved runs")):
        t = sub.add_parser(name, help=f"{what}: NAME key=value ...")
        t.add_argument("experiment", help="a declaration (gan-repro list), e.g. scogan/mnist2svhn")
    w = sub.add_parser(
        "sweep", help="run an experiment's runs in parallel processes: NAME key=value ..."
    )
    w.add_argument("experiment", help="a declaration (gan-repro list), e.g. scogan/toy-ring")
    w.add_argument(
        "--backend",
        default="local",
        choices=("local", "ray"),
        help="local: worker processes here (one per GPU); ray: one Ray task per run",
    )
    w.add_argument("--workers", type=int, help="runs at a time (default: the GPUs, or cores/2)")
    w.add_argument("--retries", type=int, default=2, help="retries of a failed run (default 2)")
    w.add_argument("--address", help="the Ray cluster (default: RAY_ADDRESS, else a local Ray)")
    d = sub.add_parser("data", help="load a dataset and print its size and class counts")
    d.add_argument("dataset", help="mnist | svhn | usps")
    d.add_argument("--split", default="train")
    d.add_argument("--data-dir", default=None)
    d.add_argument("--source", default="auto", help="auto | local | tfds | bundled")
    e = sub.add_parser("evaluate", help="write metrics.json for run folders (eval.KEY=V ...)")
    e.add_argument("runs", nargs="+", help="run folders, then eval.lpips_pairs=... overrides")
    r = sub.add_parser("report", help="thesis-vs-ours report of evaluated run folders")
    r.add_argument("runs", nargs="+")
    sub.add_parser("weights", help="convert pretrained weights (lpips)", add_help=False)
    sub.add_parser("bench", help="training-step benchmark", add_help=False)
    if argv[:1] == ["sweep-worker"]:  # one run of a sweep (gan_repro.sweep), not for people
        from gan_repro.sweep import worker_main

        return _guarded(lambda: worker_main(argv[1:]))
    if argv[:2] == ["data", "stats"]:  # its own option set: gan_repro.data.utkface.stats_main
        from gan_repro.data.utkface import stats_main

        return _guarded(lambda: stats_main(argv[2:]))
    if argv[:1] == ["evaluate"]:  # run folders, then eval.KEY=VALUE overrides
        tokens = [a for a in argv[1:] if "=" in a]
        argv = [a for a in argv if "=" not in a]
    args, rest = parser.parse_known_args(argv)
    args.verbose = verbose  # taken off the line above, wherever it stood
    if rest and args.command in ("list", "models", "data", "evaluate", "report"):
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        if args.command == "list":
            cmd_list(args)
        elif args.command == "models":
            cmd_models(args)
        elif args.command == "train":
            cmd_train(args, rest)
        elif args.command == "sweep":
            cmd_sweep(args, rest)
        elif args.command == "show":
            cmd_show(args, rest)
        elif args.command == "data":
            cmd_data(args)
        elif args.command == "evaluate":
            cmd_evaluate(args, tokens)
        elif args.command == "report":
            cmd_report(args)
        elif args.command == "weights":
            from gan_repro.metrics.weights import main_weights

            main_weights(rest)
        elif args.command == "bench":
            from gan_repro.bench import main as bench_main

            bench_main(rest)
    except GanReproError as e:
        print(f"gan-repro: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
