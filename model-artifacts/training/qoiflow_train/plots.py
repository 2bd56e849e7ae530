"""Evaluation plots of the Java engine, from `qoiflow eval --json`.

    python -m qoiflow_train.plots            # run `qoiflow eval --json` per corruption, then plot
    python -m qoiflow_train.plots --replot   # plot the JSON already in docs/eval/

Writes docs/eval/<regime>.json (the evaluator's own output, one file per corruption regime),
docs/eval_budget.png (localization error and class accuracy against budget, one line per policy,
one column per regime) and docs/eval_layers.png (mean layers per modality the controllers give
under each corruption at one budget). Nothing is typed in: every point is a row of those files.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Regime name -> corruption spec as `qoiflow eval --corruption` takes it (the same single-spec
# regimes as the Python evaluator's test set; "depth off" stands for "one modality off").
REGIMES = {
    "clean": "clean",
    "camera lowlight": "camera:lowlight:0.7-1.0",
    "camera noise": "camera:noise:0.7-1.0",
    "depth noise": "depth:noise:0.7-1.0",
    "lidar dropout": "lidar:dropout:0.7-1.0",
    "audio noise": "audio:noise:0.7-1.0",
    "depth off": "depth:off",
}
CONTROLLER_POLICIES = ("admn", "universal", "ae")


def slug(name: str) -> str:
    return name.replace(" ", "-")


def run_evals(qoiflow: str, model: Path, samples: int, seed: int, out_dir: Path, log=print):
    """One `qoiflow eval --json` per regime; its stdout is saved as is."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, spec in REGIMES.items():
        cmd = [
            qoiflow,
            "eval",
            "--model",
            str(model),
            "--corruption",
            spec,
            "--samples",
            str(samples),
            "--seed",
            str(seed),
            "--json",
        ]
        log("running " + " ".join(cmd))
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        json.loads(out)  # fail here, not in the plot, if it is not the evaluator's JSON
        (out_dir / f"{slug(name)}.json").write_text(out)


def load(out_dir: Path) -> dict[str, dict]:
    """Regime name -> the evaluator's JSON, in REGIMES order, for the files present."""
    runs = {}
    for name in REGIMES:
        f = out_dir / f"{slug(name)}.json"
        if f.exists():
            runs[name] = json.loads(f.read_text())
    if not runs:
        raise SystemExit(f"no eval JSON in {out_dir}; run without --replot first")
    return runs


def series(run: dict, policy: str, key: str):
    rows = sorted((r for r in run["rows"] if r["policy"] == policy), key=lambda r: r["budget_pct"])
    return [r["budget_pct"] for r in rows], [r[key] for r in rows]


def plot_budget(runs: dict[str, dict], path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(runs)
    fig, axes = plt.subplots(2, n, figsize=(2.9 * n, 5.6), squeeze=False, sharex=True)
    first = next(iter(runs.values()))
    policies = list(dict.fromkeys(r["policy"] for r in first["rows"]))
    for col, (name, run) in enumerate(runs.items()):
        for pol in policies:
            x, err = series(run, pol, "loc_error_cm")
            _, acc = series(run, pol, "class_acc")
            axes[0][col].plot(x, err, marker="o", ms=3, label=pol)
            axes[1][col].plot(x, acc, marker="o", ms=3, label=pol)
        axes[0][col].set_title(name)
        axes[1][col].set_xlabel("budget (% of layers)")
        for ax in (axes[0][col], axes[1][col]):
            ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("localization error (cm)")
    axes[1][0].set_ylabel("class accuracy")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(
        f"Java engine, model {first['model']}, {first['samples']} samples per regime, "
        f"seed {first['seed']} (qoiflow eval --json)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def plot_layers(runs: dict[str, dict], path: Path, budget_pct: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    first = next(iter(runs.values()))
    present = {r["policy"] for r in first["rows"]}
    policies = [p for p in CONTROLLER_POLICIES if p in present]
    modalities = list(first["rows"][0]["mean_layers"])
    names = list(runs)
    fig, axes = plt.subplots(1, len(policies), figsize=(5.2 * len(policies), 3.8), squeeze=False)
    width = 0.8 / len(modalities)
    x = np.arange(len(names))
    for ax, pol in zip(axes[0], policies, strict=True):
        for i, m in enumerate(modalities):
            vals = []
            for name in names:
                row = next(
                    r
                    for r in runs[name]["rows"]
                    if r["policy"] == pol and r["budget_pct"] == budget_pct
                )
                vals.append(row["mean_layers"][m])
            ax.bar(x + (i - (len(modalities) - 1) / 2) * width, vals, width, label=m)
        budget_layers = next(
            r["budget_layers"] for r in first["rows"] if r["budget_pct"] == budget_pct
        )
        ax.set_title(f"{pol}: mean layers per modality at {budget_pct}% (L = {budget_layers})")
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("layers")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=len(modalities))
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--qoiflow", default=str(ROOT / "qoiflow"), help="the qoiflow launcher")
    ap.add_argument("--model", type=Path, default=ROOT / "model-artifacts" / "admn-sim-v2")
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--layers-budget", type=int, default=33, help="budget %% of the layers plot")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs")
    ap.add_argument("--replot", action="store_true", help="only plot the JSON in DOCS/eval")
    a = ap.parse_args(argv)
    eval_dir = a.docs / "eval"
    if not a.replot:
        run_evals(a.qoiflow, a.model, a.samples, a.seed, eval_dir)
    runs = load(eval_dir)
    plot_budget(runs, a.docs / "eval_budget.png")
    plot_layers(runs, a.docs / "eval_layers.png", a.layers_budget)
    print(f"wrote {a.docs / 'eval_budget.png'} and {a.docs / 'eval_layers.png'}")


if __name__ == "__main__":
    main()
