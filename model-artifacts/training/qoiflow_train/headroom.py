"""Headroom: how much a perfect QoI-aware allocation could gain over the best static one, on
held-out data whose corruption varies per sample (the preset's EVAL_MIX, validation and test
seeds). No controller involved. At each budget, over the family of per-modality layer counts
(>= 1 each, evenly spread layers):
- S*: the single allocation with the lowest mean error on validation, scored on test;
- the condition oracle: per true corruption condition (per modality: corruption type x level
  bin, or off), the allocation with the lowest validation error of that condition (S* where the
  condition has fewer than `min_val` validation samples), scored on test: what a perfect QoI
  estimate can reach;
- the per-sample oracle: each test sample's own best allocation (an upper bound only).

    python -m qoiflow_train.headroom [--config full] [--artifact model-artifacts/admn-sim-v1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from .model import ADMN, MODALITIES, ADMNConfig, alloc_family, load_weights
from .train import alloc_outcomes, cls_cache

PCTS = (25, 33, 50)
LEVEL_BINS = (0.0, 1 / 3, 2 / 3)  # bins 1..3 by level; 0 = clean


def conditions(data) -> list:
    """The true corruption condition of each sample: per modality "off", or (type, level bin)."""
    lv = data.level
    b = torch.zeros_like(lv, dtype=torch.long)
    for edge in LEVEL_BINS:
        b += (lv > edge).long()
    keys = []
    for r in range(len(data)):
        keys.append(
            tuple(
                "off"
                if data.present[r, i] <= 0
                else (int(data.ctype[r, i]) if b[r, i] > 0 else 0, int(b[r, i]))
                for i in range(len(MODALITIES))
            )
        )
    return keys


def headroom(val_out, test_out, val_cond, test_cond, counts, fam_l, pcts, cfg, min_val=5):
    """val_out/test_out: alloc_outcomes over the family (counts (K,M), budget layers fam_l)."""
    from .model import budget_layers

    res = {}
    for pct in pcts:
        cols = (fam_l == budget_layers(pct, cfg.total_layers)).nonzero().flatten()
        ev, et = val_out["err"][:, cols], test_out["err"][:, cols]
        s = int(ev.mean(0).argmin())
        cond_pick = {}
        groups = {}
        for r, c in enumerate(val_cond):
            groups.setdefault(c, []).append(r)
        for c, rows in groups.items():
            if len(rows) >= min_val:
                cond_pick[c] = int(ev[rows].mean(0).argmin())
        pick = torch.tensor([cond_pick.get(c, s) for c in test_cond])
        cond_err = et.gather(1, pick[:, None])[:, 0]
        res[str(pct)] = {
            "allocations": len(cols),
            "s_star": dict(zip(MODALITIES, counts[cols[s]].tolist(), strict=True)),
            "s_star_val_cm": float(ev[:, s].mean()),
            "s_star_cm": float(et[:, s].mean()),
            "condition_oracle_cm": float(cond_err.mean()),
            "per_sample_oracle_cm": float(et.min(1).values.mean()),
            "conditions_val": len(groups),
            "conditions_with_own_pick": len(cond_pick),
            "test_samples_with_own_pick": int(sum(c in cond_pick for c in test_cond)),
            "s_star_err": et[:, s],
            "condition_oracle_err": cond_err,
        }
        r = res[str(pct)]
        r["condition_oracle_vs_s_star"] = r["condition_oracle_cm"] / r["s_star_cm"]
        r["per_sample_oracle_vs_s_star"] = r["per_sample_oracle_cm"] / r["s_star_cm"]
    return res


def strip(res: dict) -> dict:
    """Without the per-sample tensors (for JSON)."""
    return {p: {k: v for k, v in r.items() if not torch.is_tensor(v)} for p, r in res.items()}


def main(argv=None):
    from .recipe import PRESETS, REPO, THREADS, load_data

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", default="full", help="preset: held-out mix and sample counts")
    ap.add_argument("--run-dir", default=None, help="default: <repo>/.data/runs/<config>")
    ap.add_argument("--artifact", default=None, help="model folder (default: the run's stage 1)")
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--out", default=None, help="JSON file for the numbers")
    a = ap.parse_args(argv)
    torch.set_num_threads(THREADS)
    preset = PRESETS[a.config]
    run_dir = Path(a.run_dir) if a.run_dir else REPO / ".data" / "runs" / a.config
    t0 = time.time()
    data = load_data(run_dir, preset, a.synthetic)
    if a.artifact:
        mf = json.loads((Path(a.artifact) / "manifest.json").read_text())
        cfg = ADMNConfig.from_dict(mf["config"])
        model = ADMN(cfg)
        model.load_state_dict(load_weights(Path(a.artifact) / "torch_state.pt")["model"])
    else:
        info = json.loads((run_dir / "run.json").read_text())
        cfg = ADMNConfig.from_dict(info["config"])
        model = ADMN(cfg)
        model.load_state_dict(load_weights(run_dir / "stage1.pt"))
    model.eval()
    counts, fam_l = alloc_family(PCTS, cfg)
    outs = {}
    for split in ("val", "test"):
        arr = data[split][0]
        outs[split] = alloc_outcomes(model, cls_cache(model, arr), arr, counts)
    res = strip(
        headroom(
            outs["val"],
            outs["test"],
            conditions(data["val"][0]),
            conditions(data["test"][0]),
            counts,
            fam_l,
            PCTS,
            cfg,
        )
    )
    for pct, r in res.items():
        print(
            f"{pct}%: S* {r['s_star']} {r['s_star_cm']:.1f} cm (val {r['s_star_val_cm']:.1f}); "
            f"condition oracle {r['condition_oracle_cm']:.1f} cm "
            f"({r['condition_oracle_vs_s_star']:.3f}x); per-sample oracle "
            f"{r['per_sample_oracle_cm']:.1f} cm ({r['per_sample_oracle_vs_s_star']:.3f}x); "
            f"{r['allocations']} allocations, {r['conditions_with_own_pick']} conditions "
            f"with their own pick ({r['test_samples_with_own_pick']} test samples)"
        )
    print(f"headroom in {time.time() - t0:.0f}s")
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
