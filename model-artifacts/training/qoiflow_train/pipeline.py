"""One command from data to committed artifacts:

    python -m qoiflow_train.pipeline --config full     # simulate, train, evaluate, export

Stages (each resumable: its checkpoint under the run dir is reused unless --fresh):
data (`./qoiflow simulate` per alternative of the training and held-out mixes, or --synthetic)
-> stage 1 (backbones at every depth) -> allocation outcomes (the loss of every allocation of
the family for the labelled training samples and the validation split) -> S* per budget (the
`static` policy) -> controllers (admn per budget, universal, ae; `ctrl_seeds` seeds each,
expected-loss training) -> evaluation -> export to model-artifacts/<name>/ -> report.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from .evaluate import FAMILY_PCTS, choose_static, evaluate_run
from .export import export_model
from .model import ADMN, MODALITIES, ADMNConfig, alloc_family, budget_layers, load_weights
from .recipe import (
    ADMN_BUDGETS,
    PRESETS,
    REPO,
    THREADS,
    Preset,
    ctrl_key,
    load_data,
    load_run,
    make_controller,
)
from .report import write_report
from .train import (
    alloc_outcomes,
    apply_stats,
    cls_cache,
    controller_loss_table,
    frame_stats,
    pretrain_ae,
    train_expected,
    train_stage1,
)


def run(
    preset: Preset,
    run_dir: Path,
    synthetic: bool,
    out_root: Path,
    docs: Path | None,
    fresh: bool = False,
    log=print,
):
    torch.set_num_threads(THREADS)
    run_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        for p in run_dir.glob("*.pt"):
            p.unlink()
    t_all = time.time()
    info_path = run_dir / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() and not fresh else {}
    info.setdefault("timings_s", {})

    def save_info():
        info_path.write_text(json.dumps(info, indent=1) + "\n")

    t0 = time.time()
    data = load_data(run_dir, preset, synthetic, log)
    train, tinfo = data["train"]
    val = data["val"][0]
    info["timings_s"].setdefault("data", time.time() - t0)
    class_names = tinfo["class_names"]
    cfg = ADMNConfig(num_classes=len(class_names), **preset.cfg)
    info.update(
        preset=preset.name,
        model_name=preset.model_name,
        synthetic=synthetic,
        config=cfg.to_dict(),
        class_names=class_names,
        data={
            "train": tinfo["parts"],
            "val": data["val"][1]["parts"],
            "test": data["test"][1]["parts"],
            "source": "synthetic stand-in (qoiflow_train.synth)"
            if synthetic
            else "qoiflow simulate",
        },
    )
    stats = frame_stats(train)
    model = ADMN(cfg)
    apply_stats(model, None, stats)
    if (run_dir / "stage1.pt").exists():
        model.load_state_dict(load_weights(run_dir / "stage1.pt"))
        log("stage 1: reusing checkpoint")
    else:
        metrics_log = run_dir / "stage1_metrics.jsonl"
        metrics_log.unlink(missing_ok=True)
        r = train_stage1(
            model,
            train,
            preset.stage1_steps,
            preset.batch,
            preset.lr,
            log=log,
            modality_drop=preset.modality_drop,
            depth_draw=preset.depth_draw,
            cls_weight=preset.cls_weight,
            val=val.take(torch.arange(min(len(val), preset.eval_samples))),
            eval_every=preset.eval_every,
            metrics_log=metrics_log,
            time_budget_s=preset.stage1_budget_s,
        )
        torch.save(model.state_dict(), run_dir / "stage1.pt")
        (run_dir / "outcomes.pt").unlink(missing_ok=True)  # they belong to the old backbones
        info["stage1"] = r
        info["timings_s"]["stage1"] = r["seconds"]
        save_info()
    model.eval()

    # the loss of every allocation of the family: labelled training samples and validation
    t0 = time.time()
    counts, fam_l = alloc_family(FAMILY_PCTS, cfg)
    labelled = train.take(torch.arange(min(len(train), preset.label_samples)))
    # Cached beside stage1.pt (the second-largest cost of the recipe); removed with it.
    outcomes_path = run_dir / "outcomes.pt"
    if outcomes_path.exists():
        cached = torch.load(outcomes_path)
        lab_out, val_out = cached["train"], cached["val"]
        log("outcomes: reusing the cached ones")
    else:
        lab_out = alloc_outcomes(model, cls_cache(model, labelled), labelled, counts)
        val_out = alloc_outcomes(model, cls_cache(model, val), val, counts)
        torch.save({"train": lab_out, "val": val_out}, outcomes_path)
        info["timings_s"]["outcomes"] = time.time() - t0
        log(
            f"outcomes: {len(counts)} allocations x {len(labelled)} training + {len(val)} "
            f"validation samples in {time.time() - t0:.0f}s"
        )
    table = controller_loss_table(lab_out)
    del lab_out
    static = choose_static(val_out, counts, fam_l, cfg.total_layers)
    info["static"] = {str(p): v for p, v in static.items()}
    log("static (S*, validation): " + "; ".join(f"{p}% {v}" for p, v in static.items()))
    save_info()

    info.setdefault("controllers", [])
    info.setdefault("controller_runs", {})
    jobs = [("admn", p) for p in ADMN_BUDGETS] + [("universal", None), ("ae", None)]
    for seed in range(preset.ctrl_seeds):
        for j, (variant, pct) in enumerate(jobs):
            key = ctrl_key(variant, pct, seed)
            path = run_dir / f"ctrl.{key}.pt"
            if path.exists():
                if key not in info["controllers"]:
                    info["controllers"].append(key)
                continue
            c = make_controller(cfg, variant, pct)
            apply_stats(None, c, stats)
            t0 = time.time()
            cols = torch.cat(
                [
                    (fam_l == budget_layers(p, cfg.total_layers)).nonzero().flatten()
                    for p in c.family_pcts
                ]
            )
            r = {}
            if variant == "ae":
                r["ae_pretrain"] = pretrain_ae(
                    c, train, preset.ae_pretrain_steps, seed=1000 * seed + 100 + j, log=log
                )
            r.update(
                train_expected(
                    c,
                    labelled,
                    table[:, cols],
                    preset.universal_steps if variant != "admn" else preset.ctrl_steps,
                    batch=preset.batch,
                    warmup=preset.corr_warmup,
                    seed=1000 * seed + j,
                    log=log,
                    name=key,
                )
            )
            r["seconds_total"] = time.time() - t0
            torch.save(c.state_dict(), path)
            if key not in info["controllers"]:
                info["controllers"].append(key)
            info["controller_runs"][key] = r
            info["timings_s"][f"ctrl.{key}"] = r["seconds_total"]
            save_info()
    save_info()

    model, by_seed, static, info = load_run(run_dir)
    t0 = time.time()
    results = evaluate_run(model, by_seed, static, data, val_out=val_out, log=log)
    info["timings_s"]["evaluate"] = time.time() - t0
    (run_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    fixture = pick_fixture(data["test"], preset.fixture_samples)
    t0 = time.time()
    out_dir = out_root / preset.model_name
    data_info = dict(info["data"])
    data_info["class_names"] = class_names
    data_info["train_samples"] = len(train)
    data_info["eval_samples_per_alternative"] = preset.n_eval
    data_info["controller_seeds"] = preset.ctrl_seeds
    data_info["exported_controller_seed"] = 0
    manifest = export_model(
        out_dir,
        preset.model_name,
        model,
        by_seed[0],
        fixture,
        data_info,
        metrics=results["summary"],
        log=log,
        static=static,
    )
    info["timings_s"]["export"] = time.time() - t0
    info["timings_s"]["total_this_invocation"] = time.time() - t_all
    save_info()
    if docs is not None:
        write_report(results, manifest, info, docs, log=log)
    return manifest, results


def pick_fixture(test, s: int) -> dict:
    """A few held-out samples from different alternatives of the mix (one with a modality off
    when the mix has one)."""
    arr, tinfo = test
    part = tinfo["part"]
    rows = []
    offs = [j for j, p in enumerate(tinfo["parts"]) if ":off" in p["spec"]]
    order = [0, *offs, *[j for j in range(len(tinfo["parts"])) if j not in offs and j != 0]]
    for j in range(s):
        cand = (part == order[j % len(order)]).nonzero().flatten()
        rows.append(int(cand[(j // len(order)) % len(cand)]))
    return {
        "frames": {m: arr.frames[m][rows].numpy().astype(np.float32) for m in MODALITIES},
        "present": arr.present[rows].numpy().astype(np.float32),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", default="full", choices=sorted(PRESETS))
    ap.add_argument("--synthetic", action="store_true", help="synthetic stand-in data")
    ap.add_argument("--run-dir", default=None, help="default: <repo>/.data/runs/<config>")
    ap.add_argument("--out", default=str(REPO / "model-artifacts"), help="artifact root")
    ap.add_argument("--name", default=None, help="artifact folder name (default per config)")
    ap.add_argument(
        "--docs",
        default=None,
        help="results markdown (default docs/ADMN_RESULTS.md for --config full, none otherwise)",
    )
    ap.add_argument("--fresh", action="store_true", help="retrain even if checkpoints exist")
    ap.add_argument(
        "--stage1-minutes", type=float, default=None, help="override the preset's stage-1 budget"
    )
    a = ap.parse_args(argv)
    preset = PRESETS[a.config]
    if a.stage1_minutes is not None:
        preset.stage1_budget_s = 60.0 * a.stage1_minutes
    if a.name:
        preset.model_name = a.name
    run_dir = Path(a.run_dir) if a.run_dir else REPO / ".data" / "runs" / a.config
    docs = (
        Path(a.docs)
        if a.docs
        else (REPO / "docs" / "ADMN_RESULTS.md" if a.config == "full" else None)
    )

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    run(preset, run_dir, a.synthetic, Path(a.out), docs, a.fresh, log)


if __name__ == "__main__":
    main()
