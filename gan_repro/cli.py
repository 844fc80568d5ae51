"""``gan-repro``: the suite's command line.

gan-repro models [--json]              every builder: source, output shapes, parameters
gan-repro train EXPERIMENT [ARGS...]   run an experiment script (``--help`` for its options)
gan-repro evaluate RUN_DIR...          write each run's metrics.json (LPIPS, FID/KID, agreement)
gan-repro report RUN_DIR... [--out F]  thesis-vs-ours markdown report of evaluated runs
gan-repro weights lpips [--net alex]   convert the official LPIPS release into the cache
gan-repro data DATASET [--split S] [--data-dir D] [--source S]   load and describe a dataset
gan-repro data stats utkface [--data-dir D] [--scheme S]   UTKFace names and age-group counts
gan-repro bench [--device gpu] ...     training-step benchmark (eager / tf.function / XLA)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_repro.errors import GanReproError, check_choice  # noqa: E402

#: Experiment names -> their module in the repository's ``experiments/`` package.
EXPERIMENTS = {
    "scogan-mnist2svhn": "experiments.scogan.mnist2svhn",
    "face-aging": "experiments.face_aging.utkface",
}


def import_experiment(name: str):
    """Import an experiment module; the ``experiments/`` package sits beside ``gan_repro/``."""
    check_choice("experiment", name, EXPERIMENTS)
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module(EXPERIMENTS[name])


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


def _experiment_of(run_dir: str):
    from gan_repro.errors import DatasetMissingError
    from gan_repro.runs import read_json

    config = Path(run_dir) / "config.json"
    if not config.is_file():
        raise DatasetMissingError(f"{config} not found: {run_dir} is not a run folder")
    return import_experiment(read_json(config)["experiment"])


def cmd_evaluate(args) -> None:
    for run in args.runs:
        metrics = _experiment_of(run).evaluate(
            Path(run), args.lpips_weights, args.inception_weights, args.n, args.data_dir
        )
        print(f"{run}: metrics.json written ({', '.join(sorted(metrics))})")


def cmd_report(args) -> None:
    from gan_repro.report import write_report

    exp = _experiment_of(args.runs[0])
    runs = [Path(r) for r in args.runs]
    if hasattr(exp, "report_folder"):  # experiments whose report covers a whole results folder
        folders = {r.parent for r in runs}
        for folder in sorted(folders):
            print(exp.report_folder(folder).read_text())
        return
    out = Path(args.out or Path(args.runs[0]).parent / "report.md")
    print(write_report(runs, exp.PUBLISHED, exp.TABLES, exp.TITLE, out).read_text())


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
    m = sub.add_parser("models", help="list every builder with its parameter counts")
    m.add_argument("--json", action="store_true")
    t = sub.add_parser("train", help="run an experiment", add_help=False)
    t.add_argument("experiment", help=f"one of {sorted(EXPERIMENTS)}")
    d = sub.add_parser("data", help="load a dataset and print its size and class counts")
    d.add_argument("dataset", help="mnist | svhn | usps")
    d.add_argument("--split", default="train")
    d.add_argument("--data-dir", default=None)
    d.add_argument("--source", default="auto", help="auto | local | tfds | bundled")
    e = sub.add_parser("evaluate", help="write metrics.json for run folders")
    e.add_argument("runs", nargs="+")
    e.add_argument("--n", type=int, default=None, help="LPIPS pairs (default: the scale's)")
    e.add_argument("--lpips-weights", default="auto")
    e.add_argument("--inception-weights", default="auto")
    e.add_argument("--data-dir", default=None)
    r = sub.add_parser("report", help="thesis-vs-ours report of evaluated run folders")
    r.add_argument("runs", nargs="+")
    r.add_argument("--out", default=None, help="markdown file (default: beside the runs)")
    sub.add_parser("weights", help="convert pretrained weights (lpips)", add_help=False)
    sub.add_parser("bench", help="training-step benchmark", add_help=False)
    if argv[:2] == ["data", "stats"]:  # its own option set: gan_repro.data.utkface.stats_main
        from gan_repro.data.utkface import stats_main

        return _guarded(lambda: stats_main(argv[2:]))
    args, rest = parser.parse_known_args(argv)
    if rest and args.command in ("models", "data", "evaluate", "report"):
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        if args.command == "models":
            cmd_models(args)
        elif args.command == "train":
            import_experiment(args.experiment).main(rest)
        elif args.command == "data":
            cmd_data(args)
        elif args.command == "evaluate":
            cmd_evaluate(args)
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
