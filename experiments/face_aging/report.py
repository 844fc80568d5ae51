"""The ``face_aging`` section of ``report.md``: the thesis's numbers and statements beside ours.

The thesis publishes parameter counts, dataset counts and one loss value (``published.csv``);
everything else it says is a visual judgement. Each judgement is quoted with its line next to the
measurement that tests it (``STATEMENTS``). The report reads only the run folders; the generic
writer (:func:`gan_repro.report.write_report`) adds the title and the declaration's choices.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gan_repro.io import read_json
from gan_repro.viz.face_aging import loss_tail_table
from gan_repro.viz.figures import read_history


def _f(x, digits=3) -> str:
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}f}"


def _get(metrics: dict | None, *path):
    for key in path:
        if not isinstance(metrics, dict) or key not in metrics:
            return None
        metrics = metrics[key]
    return metrics


def parameter_table(published: list[dict]) -> list[str]:
    """Published model.summary() totals beside the builders' (the same layers, Figs A.1-A.9)."""
    from gan_repro.models import face_aging as fa

    small = (32, 32, 3)  # the CycleGAN's counts do not depend on the resolution
    ours = {
        ("dcgan", "params_generator"): fa.face_aging_dcgan_generator(),
        ("dcgan", "params_discriminator"): fa.face_aging_dcgan_discriminator(),
        ("cyclegan", "params_generator"): fa.face_aging_cyclegan_generator(small),
        ("cyclegan", "params_discriminator"): fa.face_aging_cyclegan_discriminator(small),
        ("cgan", "params_generator"): fa.face_aging_cgan_generator_body(),
        ("cgan", "params_discriminator"): fa.face_aging_cgan_discriminator_body(),
        ("cdcgan", "params_generator"): fa.face_aging_cdcgan_generator(),
        ("cdcgan", "params_discriminator"): fa.face_aging_cdcgan_discriminator(),
    }
    lines = ["| model | network | thesis (Appendix A) | ours | source |", "|---|---|---|---|---|"]
    for row in published:
        key = (row["model"], row["metric"])
        if key in ours:
            n = ours[key].count_params()
            lines.append(
                f"| {row['model']} | {row['metric'].split('_')[1]} | {int(row['value']):,} | "
                f"{n:,} | Fig {row['table']} ({row['lines']}) |"
            )
    return lines


def dataset_table(published: list[dict], out: Path, configs: dict[str, dict]) -> list[str]:
    data = read_json(out / "data.json") if (out / "data.json").exists() else {}
    if "provenance" in data:  # one data section: data.json holds its record alone
        data = {"": data}
    counts = {}
    for c in configs.values():
        counts.setdefault(c["meta"]["data_variant"], c["data"]["counts"])
    lines = [
        "| scheme | group | thesis (full 23,708-image set) | this run's data | source |",
        "|---|---|---|---|---|",
    ]
    for row in published:
        if not row["metric"].startswith("count_"):
            continue
        group = row["metric"][len("count_") :]
        variant = "cyclegan" if row["model"] == "cyclegan" else "cgan"
        ours = (counts.get(variant) or {}).get(group)
        if group == "total":
            ours = sum((counts.get(variant) or {}).values()) or None
        lines.append(
            f"| {row['model']} | {group} | {int(row['value']):,} | {_f(ours)} | "
            f"{row['table']} ({row['lines']}) |"
        )
    loaded = (f"{v.get('variant', k)}: {v.get('provenance', v)}" for k, v in data.items())
    lines += ["", "Data loaded: " + "; ".join(loaded)]
    return lines


Getter = Callable[[dict], str]


def _acc(run: str) -> Getter:
    def get(m):
        a = _get(m.get(run), "age_accuracy")
        return "–" if a is None else f"{run}: {_f(a['accuracy'])} (chance {_f(a['chance'])})"

    return get


def _cycle_acc(m) -> str:
    parts = []
    for d in ("AtoB", "BtoA"):
        x = _get(m.get("cyclegan"), "directions", d)
        if x:
            parts.append(
                f"{d}: translated faces classed as the target group "
                f"{_f(x['age_accuracy_translated']['accuracy'])}, the inputs as their own group "
                f"{_f(x['age_accuracy_inputs_as_source']['accuracy'])}"
            )
    return "; ".join(parts) or "–"


def _collapsed(m) -> str:
    parts = []
    for run in ("cyclegan-collapsed", "cyclegan"):
        x = _get(m.get(run), "losses", "d_loss_at_checkpoint")
        if x:
            parts.append(f"{run}: mean D loss {x['mean_d_loss']:.4f} at step {x['step']}")
    return "; ".join(parts) or "–"


def _d_acc(m) -> str:
    x = _get(m.get("dcgan"), "losses")
    if not x or "d_acc" not in x.get("first", {}):
        return "–"
    return (
        f"D accuracy {x['first']['d_acc']:.2f} at step {x['first_step']}, "
        f"{x['mean_last_10pct']['d_acc']:.2f} over the last 10 % of the run"
    )


def _fid_mean(run: str) -> Getter:
    def get(m):
        f = _get(m.get(run), "fid_per_group")
        if not f:
            return "–"
        vals = [v["fid"] for k, v in f.items() if k != "all" and isinstance(v, dict) and "fid" in v]
        return f"{run}: mean per-class FID {sum(vals) / len(vals):.3g}" if vals else "–"

    return get


def _join(*getters: Getter) -> Getter:
    return lambda m: "; ".join(g(m) for g in getters)


def _g_loss(run: str) -> Getter:
    def get(m):
        x = _get(m.get(run), "losses")
        if not x:
            return "–"
        return (
            f"{run}: G loss {x['first']['g_loss']:.3f} -> {x['mean_last_10pct']['g_loss']:.3f}, "
            f"D loss {x['first']['d_loss']:.3f} -> {x['mean_last_10pct']['d_loss']:.3f}"
        )

    return get


#: (model, thesis statement with its line, how we test it)
STATEMENTS: list[tuple[str, str, Getter]] = [
    (
        "DCGAN",
        '"The accuracy of the discriminator did drop a lot during the training" (L1087)',
        _d_acc,
    ),
    (
        "CycleGAN",
        '"no age change was perceptible" between input and output (L1114-1116)',
        _cycle_acc,
    ),
    (
        "CycleGAN",
        'collapsed first run: D loss "around 0.002 in iteration 10000" (L1127)',
        _collapsed,
    ),
    (
        "CGAN",
        'the category effect "works very well" (L1172)',
        _join(_acc("cgan-z100"), _acc("cgan-z120")),
    ),
    (
        "CGAN",
        'latent 120 vs 100: "no major difference" (L1146)',
        _join(_fid_mean("cgan-z100"), _fid_mean("cgan-z120")),
    ),
    (
        "CGAN",
        "G loss drops towards ~0 with random peaks; D loss shows no clear evolution (L1166)",
        _g_loss("cgan-z120"),
    ),
    (
        "Proposed loss",
        '"no perceptible change" against BCE (L1225); it does not destabilise training (L1249)',
        _join(_acc("cgan-lc-b1"), _acc("cgan-lc-b5"), _fid_mean("cgan-lc-b1")),
    ),
    (
        "CDCGAN",
        "faces recognisable, the category fits (L1196); works across ethnicities (L1219)",
        _join(_acc("cdcgan"), _fid_mean("cdcgan")),
    ),
]


def _drift_table(m: dict) -> list[str]:
    lines = [
        "| run | direction | LPIPS(input, output) | LPIPS different faces | SSIM(input, output) "
        "| SSIM different faces | share with LPIPS below the different-face median |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in ("cyclegan", "cyclegan-collapsed"):
        for d, x in (_get(m.get(run), "directions") or {}).items():
            drift = x["identity_drift"]
            lines.append(
                f"| {run} | {d} | {_f(drift['lpips']['mean'])} | "
                f"{_f(_get(drift, 'baseline', 'lpips', 'mean'))} | {_f(drift['ssim']['mean'])} | "
                f"{_f(_get(drift, 'baseline', 'ssim', 'mean'))} | "
                f"{_f(drift.get('share_lpips_below_baseline_median'))} |"
            )
    return lines


def _age_table(m: dict) -> list[str]:
    """Age-group accuracy of generated faces, raw and after Fig 5.7's 5x5 median, beside the
    classifier's accuracy on real held-out faces with the fakes' pixel noise added (if that is
    far below its clean accuracy, the raw number measures noise, not age)."""
    lines = [
        "| run | age-group accuracy of generated faces | after 5x5 median | balanced | chance "
        "| classifier on real faces: clean / with the fakes' noise | FID per group |",
        "|---|---|---|---|---|---|---|",
    ]
    for run, x in m.items():
        acc = x.get("age_accuracy")
        if not acc:
            continue
        fids = ", ".join(
            f"{g} {v['fid']:.3g}"
            for g, v in (x.get("fid_per_group") or {}).items()
            if isinstance(v, dict) and "fid" in v
        )
        median = _get(x, "age_accuracy_median", "accuracy")
        real = x.get("classifier_on_real") or {}
        clean = _get(real, "clean", "accuracy")
        noisy = _get(real, "noisy", "accuracy")
        lines.append(
            f"| {run} | {_f(acc['accuracy'])} | {_f(median)} | {_f(acc.get('balanced_accuracy'))} "
            f"| {_f(acc['chance'])} | {_f(clean)} / {_f(noisy)} | {fids or '–'} |"
        )
    return lines


def report_body(report) -> str:
    """The report of a :class:`gan_repro.report.ReportContext` without its title: warnings,
    Appendix A and data counts, the thesis's statements beside ours, the measures beyond it,
    Fig 5.5's loss table, the classifiers and the figures."""
    out = report.folder
    published = report.published
    declared = list(report.declaration.runs)
    chosen = sorted(
        (r for r in report.runs if r["variant"] in declared),
        key=lambda r: declared.index(r["variant"]),
    )
    metrics = {r["variant"]: r["metrics"] for r in chosen if r["metrics"] is not None}
    configs = {r["variant"]: r["config"] for r in chosen}
    parts = []
    scales = sorted({c["scale"] for c in configs.values()})
    if "smoke" in scales:
        parts += [
            "> **Smoke scale**: a few iterations on a face sample. The numbers check the "
            "pipeline, not the thesis.",
            "",
        ]
    random = sorted(
        {
            f"{key.split('_')[0]} ({run})"
            for run, m in metrics.items()
            for key in ("inception_weights", "lpips_weights")
            if "RANDOM" in str(m.get(key))
        }
    )
    if random:
        parts += [
            "> **WARNING: computed with RANDOM network weights** (the pretrained file was not "
            f"available offline): {', '.join(random)}. FID/LPIPS values are not comparable.",
            "",
        ]
    missing = [r for r in declared if r not in configs]
    if missing:
        parts += [f"Not run: {', '.join(missing)}.", ""]
    parts += ["## Parameter counts (Appendix A)", "", *parameter_table(published), ""]
    parts += ["## Data (UTKFace age groups)", "", *dataset_table(published, out, configs), ""]
    parts += [
        "## What the thesis said, and what we measured",
        "",
        "| model | thesis | this reproduction |",
        "|---|---|---|",
    ]
    parts += [f"| {model} | {said} | {get(metrics)} |" for model, said, get in STATEMENTS]
    parts += ["", "## Age groups of generated faces (beyond the thesis)", ""]
    parts += _age_table(metrics)
    dcgan = metrics.get("dcgan", {})
    if dcgan.get("age_mix_generated"):
        mix = dcgan["age_mix_generated"]["shares"]
        parts += [
            "",
            "DCGAN (unconditional) age mix, generated: "
            + ", ".join(f"{g} {_f(v)}" for g, v in mix.items())
            + "; data: "
            + ", ".join(f"{g} {_f(v)}" for g, v in dcgan["age_mix_data"].items()),
        ]
    parts += ["", "## CycleGAN identity drift (beyond the thesis)", "", *_drift_table(metrics)]
    collapsed = out / "cyclegan-collapsed" / "history.csv"
    if collapsed.exists():
        keys = ("dA_real", "dA_fake", "dB_real", "dB_fake", "g_AtoB", "g_BtoA")
        parts += [
            "",
            "## Fig 5.5: the collapsed CycleGAN's last 10 logged iterations",
            "",
            loss_tail_table(read_history(collapsed), keys, last=10),
        ]
    classifiers = sorted((out / "classifiers").glob("*.json"))
    if classifiers:
        parts += [
            "",
            "## Age-group classifiers (ours; held-out split)",
            "",
            "| classifier | val accuracy | val balanced accuracy | chance |",
            "|---|---|---|---|",
        ]
        for path in classifiers:
            c = read_json(path)
            parts.append(
                f"| {path.stem} | {_f(c.get('val_accuracy'))} | "
                f"{_f(c.get('val_balanced_accuracy'))} | {_f(_get(c, 'chance', 'uniform'))} |"
            )
    figures = sorted((out / "figures").glob("*.png"))
    if figures:
        parts += ["", "## Figures", ""]
        parts += [f"![{p.stem}](figures/{p.name})" for p in figures]
    name = report.declaration.name
    parts += ["", f"Runs: {', '.join(configs)} ({', '.join(scales)} scale); experiment {name}."]
    return "\n".join(parts)
