"""``gan-repro``: the suite's command line.

gan-repro list                         every declared experiment with its runs and scales
gan-repro train NAME [key=value ...]   run an experiment, e.g. ``gan-repro train scogan/mnist2svhn
                                       scale=smoke runs=SL,SLFR trainer.steps=200``
gan-repro show NAME [key=value ...]    the resolved configuration of each run, without training
gan-repro models [--json]              every registered network: source, shapes, parameters
gan-repro evaluate RUN_DIR... [eval.KEY=V]  write each run's metrics.json (its evaluators)
gan-repro report RUN_DIR...            the thesis-vs-ours report of the runs' results folder
gan-repro weights lpips [--net alex]   convert the official LPIPS release into the cache
gan-repro data DATASET [--split S] [--data-dir D] [--source S]   load and describe a dataset
gan-repro data stats utkface [--data-dir D] [--scheme S]   UTKFace names and age-group counts
gan-repro bench [--device gpu] ...     training-step benchmark (eager / tf.function / XLA)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_repro.errors import GanReproError, check_choice  # noqa: E402


def cmd_list(args) -> None:
    from gan_repro.config import all_declarations, describe

    for decl in all_declarations():
        print(describe(decl))


def cmd_train(args, rest) -> None:
    from gan_repro.runner import run_experiment

    run_experiment(args.experiment, rest)


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
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="gan-repro", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every declared experiment with its runs and scales")
    m = sub.add_parser("models", help="list every builder with its parameter counts")
    m.add_argument("--json", action="store_true")
    for name, what in (("train", "run an experiment"), ("show", "print its resolved runs")):
        t = sub.add_parser(name, help=f"{what}: NAME key=value ...")
        t.add_argument("experiment", help="a declaration (gan-repro list), e.g. scogan/mnist2svhn")
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
    if argv[:2] == ["data", "stats"]:  # its own option set: gan_repro.data.utkface.stats_main
        from gan_repro.data.utkface import stats_main

        return _guarded(lambda: stats_main(argv[2:]))
    if argv[:1] == ["evaluate"]:  # run folders, then eval.KEY=VALUE overrides
        tokens = [a for a in argv[1:] if "=" in a]
        argv = [a for a in argv if "=" not in a]
    args, rest = parser.parse_known_args(argv)
    if rest and args.command in ("list", "models", "data", "evaluate", "report"):
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        if args.command == "list":
            cmd_list(args)
        elif args.command == "models":
            cmd_models(args)
        elif args.command == "train":
            cmd_train(args, rest)
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
