"""docs/ADMN_RESULTS.md and docs/admn_results.png from `evaluate.evaluate_run`'s results."""

from __future__ import annotations

from pathlib import Path

from .model import MODALITIES

PCTS_S = ("25", "33", "50", "67", "100")


def _lay(v):
    return " ".join(f"{x:.1f}" for x in v)


def _cell(v):
    if v is None:
        return ""
    s = f"{v['err_cm']:.1f}"
    if "acc" in v:
        s += f" / {100 * v['acc']:.0f}"
    if "layers" in v:
        s += f" / {_lay(v['layers'])}"
    return s


def write_report(results, manifest, info, docs: Path, log=print):
    docs = Path(docs)
    docs.parent.mkdir(parents=True, exist_ok=True)
    plot = docs.with_name("admn_results.png")
    make_plot(results, plot)
    fl = manifest["flops"]
    L = manifest["budgets"]
    mix = results["mix"]
    lines = [
        "# ADMN results (QoIFlow simulator)",
        "",
        f"Model `{manifest['name']}` ({info.get('data', {}).get('source', '')}); written by "
        "`python -m qoiflow_train.evaluate` (reproduce everything with "
        f"`python -m qoiflow_train.pipeline --config {info.get('preset', 'full')}`, see "
        "docs/TRAINING.md). Every number is measured on the held-out per-sample mix below "
        f"(test seeds, {results['groups']['mix']} samples; S* and the oracles' picks chosen on "
        "the validation seeds); controllers: mean over "
        f"{results['seeds']} training seeds (the exported graphs are seed 0). Nothing is typed "
        "in by hand.",
        "",
        "Held-out mix (one alternative per sample; * = corruption type never seen in training): "
        + "; ".join(f"{p['name']} `{p['spec']}` ({p['samples']})" for p in mix)
        + ".",
        "",
        f"Backbones: 5 x {manifest['layers_per_modality']} layers, dim {manifest['dim']}, tokens "
        + ", ".join(f"{m} {n}" for m, n in manifest["tokens"].items())
        + f". Budgets (layers of {manifest['total_layers']}): "
        + ", ".join(f"{p}% = {n}" for p, n in L.items())
        + f". Full model {fl['full_model'] / 1e6:.1f} MFLOPs/sample; controllers "
        + ", ".join(
            f"{k} {v / 1e6:.3f} MFLOPs ({100 * fl['controller_fraction_of_full'][k]:.2f}%)"
            for k, v in fl["controller"].items()
        )
        + ".",
        "",
        "![results](admn_results.png)",
        "",
        "## Targets",
        "",
        "Ratio of mean localization errors on the test split, paired-bootstrap 95% interval "
        "over test samples (controllers: per-sample error averaged over the seeds first).",
        "",
        "| target | ratio | 95% interval | limit | met |",
        "|---|---|---|---|---|",
    ]
    for t in results["targets"]:
        lim = f"<= {t['limit']}" + (" and interval < 1" if t["ci_must_exclude_1"] else "")
        lines.append(
            f"| {t['target']} | {t['ratio']:.3f} | {t['lo']:.3f} - {t['hi']:.3f} | {lim} | "
            f"{'**met**' if t['met'] else '**missed**'} |"
        )
    cf = results["table"].get("clean", {}).get("full", {}).get("100")
    if cf:
        lines.append(
            f"| class accuracy, full model, clean | {100 * cf['acc']:.1f}% | | >= 85% | "
            f"{'**met**' if cf['acc'] >= 0.85 else '**missed**'} |"
        )
    lm = manifest["layers_per_modality"]
    for m in MODALITIES:
        own = results["depth_curves"][m][-1]["acc"]
        ridge = results["ridge"].get(m)
        if ridge is not None:
            lines.append(
                f"| {m} alone (full depth) vs its ridge baseline, class accuracy, clean | "
                f"{100 * own:.1f}% vs {100 * ridge:.1f}% | | above | "
                f"{'**met**' if own > ridge else '**missed**'} |"
            )
    worst = max(fl["controller_fraction_of_full"].values())
    lines.append(
        f"| controller FLOPs / full model (largest) | {100 * worst:.2f}% | | <= 2% | "
        f"{'**met**' if worst <= 0.02 else '**missed**'} |"
    )
    lines += [
        "",
        "Per seed (mean error on the mix, cm): "
        + "; ".join(
            f"{pol}@{p} "
            + " / ".join(f"{x:.1f}" for x in results["table"]["mix"][pol][p]["err_cm_seeds"])
            for pol in ("admn", "universal", "ae")
            if pol in results["table"]["mix"]
            for p in ("25", "33")
        )
        + ".",
        "",
        "## Headroom (no controller)",
        "",
        "Over the family of per-modality layer counts (>= 1 each, evenly spread layers): S* = the "
        "best single allocation on validation; condition oracle = the best allocation per true "
        "condition (per modality: corruption type x level bin, or off; chosen on validation, S* "
        "where a condition has < 5 validation samples); per-sample oracle = each test sample's "
        "own best (upper bound). `python -m qoiflow_train.headroom` prints the same for any "
        "model folder.",
        "",
        "| budget | allocations | S* (camera depth mmwave lidar audio) | S* (cm) | condition "
        "oracle (cm) | / S* | per-sample oracle (cm) | / S* |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p, r in results["headroom"].items():
        lines.append(
            f"| {p}% | {r['allocations']} | {' '.join(str(v) for v in r['s_star'].values())} | "
            f"{r['s_star_cm']:.1f} | {r['condition_oracle_cm']:.1f} | "
            f"{r['condition_oracle_vs_s_star']:.3f} | {r['per_sample_oracle_cm']:.1f} | "
            f"{r['per_sample_oracle_vs_s_star']:.3f} |"
        )
    before = Path(__file__).resolve().parents[3] / "docs" / "headroom-admn-sim-v1.json"
    if before.exists():
        import json

        b = json.loads(before.read_text())
        lines += [
            "",
            f"Before (model `{b['model']}`, {b['world']}; {b['mix']}; `{b['command']}`):",
            "",
            "| budget | S* | S* (cm) | condition oracle (cm) | / S* | per-sample oracle (cm) "
            "| / S* |",
            "|---|---|---|---|---|---|---|",
        ]
        for p, r in b["headroom"].items():
            lines.append(
                f"| {p}% | {' '.join(str(v) for v in r['s_star'].values())} | "
                f"{r['s_star_cm']:.1f} | {r['condition_oracle_cm']:.1f} | "
                f"{r['condition_oracle_vs_s_star']:.3f} | {r['per_sample_oracle_cm']:.1f} | "
                f"{r['per_sample_oracle_vs_s_star']:.3f} |"
            )
    lines += [
        "",
        "`static` policy (manifest `policies.static.allocations_by_budget`, S* per budget "
        "chosen on validation): "
        + "; ".join(
            f"{p}%: " + " ".join(f"{m} {k}" for m, k in v.items())
            for p, v in results["static"].items()
        )
        + ".",
        "",
        "## Main table",
        "",
        "Each cell: localization error (cm) / class accuracy (%) / mean layers per modality "
        "(camera depth mmwave lidar audio). `full` runs every layer at every budget; at 100% "
        "every policy runs every layer of every present modality. `condition oracle`: the "
        "headroom's (no controller).",
        "",
    ]
    for g, by in results["table"].items():
        lines += [
            f"### {g} ({results['groups'][g]} samples)",
            "",
            "| policy | 25% | 33% | 50% | 67% | 100% |",
            "|---|---|---|---|---|---|",
        ]
        for pol, row in by.items():
            lines.append(f"| {pol} | " + " | ".join(_cell(row.get(p)) for p in PCTS_S) + " |")
        q = by.get("admn", {}).get("25", {}).get("qoi")
        if q:
            lines += [
                "",
                f"admn@25% mean QoI estimate (camera depth mmwave lidar audio): {_lay(q)}",
            ]
        lines.append("")
    lines += [
        "## Depth curves (clean test samples)",
        "",
        "Error (cm) / accuracy (%) with k evenly spread layers per used modality.",
        "",
        "| modalities | " + " | ".join(f"k={k}" for k in range(1, lm + 1)) + " |",
        "|---|" + "---|" * lm,
    ]
    for name, rows in results["depth_curves"].items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r['err_cm']:.1f} / {100 * r['acc']:.0f}" for r in rows)
            + " |"
        )
    lines += [
        "",
        f"Always predicting the arena centre: {results['centre_baseline_cm']:.1f} cm. Ridge "
        "classifier on crude features (frame average-pooled to <= 8x16 cells per channel), "
        "clean, class accuracy: "
        + ", ".join(f"{m} {100 * v:.1f}%" for m, v in results["ridge"].items())
        + ".",
        "",
        "## Clean vs corrupted (full depth)",
        "",
        "| alternative | modality | it alone: clean -> corrupted (cm / acc%) | all: clean -> "
        "corrupted (cm) |",
        "|---|---|---|---|",
    ]
    for nm, c in results["checks"].items():
        a0, a1 = c["alone_clean"], c["alone_corrupted"]
        alone = f"{a0['err_cm']:.1f} / {100 * a0['acc']:.0f} -> " + (
            f"{a1['err_cm']:.1f} / {100 * a1['acc']:.0f}" if a1 else "off"
        )
        lines.append(
            f"| {nm} | {c['modality']} | {alone} | {c['all_clean']:.1f} -> "
            f"{c['all_corrupted']:.1f} |"
        )
    evals = info.get("stage1", {}).get("evals", [])
    if evals:
        lines += [
            "",
            "## Stage 1: per-modality validation error during training",
            "",
            "Each modality alone (and all), error (cm) / class accuracy (%) at 1, Lm/2 and Lm "
            "evenly spread layers, on held-out validation samples; the whole log (train and "
            "validation) is `stage1_metrics.jsonl` in the run directory.",
            "",
            "| step | " + " | ".join([*MODALITIES, "all"]) + " |",
            "|---|" + "---|" * (len(MODALITIES) + 1),
        ]
        for e in evals:
            v = e["val"]
            lines.append(
                f"| {e['step']} | "
                + " | ".join(
                    " · ".join(f"{x[0]:.0f}/{100 * x[1]:.0f}" for x in v[m].values())
                    for m in [*MODALITIES, "all"]
                )
                + " |"
            )
    tim = info.get("timings_s", {})
    lines += [
        "",
        "Wall-clock seconds on the 2-core build machine (shared): "
        + ", ".join(f"{k} {v:.0f}" for k, v in tim.items())
        + ".",
        "",
    ]
    docs.write_text("\n".join(lines))
    log(f"wrote {docs} and {plot}")


def make_plot(results, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = results["table"]
    regs = list(t)
    ncol = 3
    nrow = (len(regs) + ncol - 1) // ncol + 1
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.2 * nrow))
    axes = axes.flatten()
    for ax, g in zip(axes, regs, strict=False):
        for pol, row in t[g].items():
            ps = [p for p in PCTS_S if p in row]
            ax.plot([int(p) for p in ps], [row[p]["err_cm"] for p in ps], marker="o", label=pol)
        ax.set_title(g)
        ax.set_xlabel("budget (% of layers)")
        ax.set_ylabel("loc. error (cm)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    ax = axes[len(regs)]
    for name, rows in results["depth_curves"].items():
        ax.plot([r["layers"] for r in rows], [r["err_cm"] for r in rows], marker=".", label=name)
    ax.set_title("depth curves (clean): layers per modality")
    ax.set_xlabel("layers")
    ax.set_ylabel("loc. error (cm)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    for ax in axes[len(regs) + 1 :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
