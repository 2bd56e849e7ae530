"""Evaluation on the held-out per-sample mix (test seeds): policies x budgets (overall and per
alternative of the mix), headroom (S*, condition oracle, per-sample oracle), depth curves,
clean-vs-corrupted checks, ridge baselines, and the issue's targets with paired-bootstrap 95%
intervals. Every allocation of evenly spread layers is scored from cached CLS tokens (one
fusion pass each); anything else (a controller's top-k fill when a modality is missing) runs
the backbone layers it chose.

    python -m qoiflow_train.evaluate [--config full] [--run-dir DIR] [--artifacts DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .headroom import conditions, headroom, strip
from .model import (
    ADMN,
    MODALITIES,
    alloc_family,
    budget_layers,
    full_mask,
    naive_mask,
    select_topk,
    spread,
    static_mask,
)
from .train import alloc_outcomes, cls_cache

CTRL_POLICIES = ("admn", "universal", "ae")
QOI_AWARE = ("admn", "universal")
POLICIES = ("naive", "static", *CTRL_POLICIES, "full")
PCTS = (25, 33, 50, 67, 100)
FAMILY_PCTS = (25, 33, 50, 67)
HEADROOM_PCTS = (25, 33, 50)
BOOT = 2000


def choose_static(val_out, counts, fam_l, total) -> dict:
    """S* per budget: the family allocation with the lowest mean validation error (cm)."""
    out = {}
    for pct in FAMILY_PCTS:
        cols = (fam_l == budget_layers(pct, total)).nonzero().flatten()
        best = cols[int(val_out["err"][:, cols].mean(0).argmin())]
        out[pct] = dict(zip(MODALITIES, counts[best].tolist(), strict=True))
    return out


@torch.no_grad()
def policy_mask(model: ADMN, ctrls: dict, static: dict, policy, pct, frames, present):
    """-> (bool mask (B, M*Lm), qoi (B,M) or None)."""
    lm, total = model.cfg.layers_per_modality, model.cfg.total_layers
    L = budget_layers(pct, total)
    if policy == "full" or pct == 100:
        return full_mask(present, lm), None
    if policy == "naive":
        return naive_mask(present, L, lm), None
    if policy == "static":
        return static_mask(present, static[pct], lm), None
    c = ctrls[policy]
    c = c[pct] if isinstance(c, dict) else c
    budget = torch.full((present.shape[0], 1), pct / 100.0) if c.budget_input else None
    logits, qoi = c(frames, present, budget)
    return select_topk(logits, present, L), qoi


@torch.no_grad()
def eval_masks(model: ADMN, cache, data, mask) -> dict:
    """Per-sample error (cm), class hit and layers per modality of a layer mask; CLS tokens of
    evenly spread layer sets from `cache` (cls_cache), other sets computed."""
    lm, n = model.cfg.layers_per_modality, len(data)
    m3 = mask.reshape(n, len(MODALITIES), lm)
    counts = m3.sum(2)
    table = torch.zeros(lm + 1, lm, dtype=torch.bool)
    for k in range(1, lm + 1):
        table[k, spread(k, lm)] = True
    cls = cache[
        torch.arange(n)[:, None], torch.arange(len(MODALITIES))[None], (counts - 1).clamp_min(0)
    ]
    cls = cls * (counts > 0)[:, :, None]
    odd = (m3 != table[counts]).any(2)  # (n,M) layer sets not in the cache
    for r, i in odd.nonzero().tolist():
        m = MODALITIES[i]
        bb = model.backbones[m]
        x = bb.embed(data.frames[m][r : r + 1])
        for li in m3[r, i].nonzero().flatten().tolist():
            x = bb.layers[li](x)
        cls[r, i] = x[0, 0] * data.present[r, i]
    mean, _, logits = model.fusion(cls, data.present, return_logits=True)
    return {
        "err": (mean - data.xy).norm(dim=1),
        "hit": (logits.argmax(1) == data.cls).float(),
        "layers": counts.float(),
    }


def ratio_ci(a, b, seed=0) -> dict:
    """mean(a) / mean(b) with a paired-bootstrap 95% interval over samples."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, len(a), (BOOT, len(a)), generator=g)
    r = a[idx].mean(1) / b[idx].mean(1)
    lo, hi = torch.quantile(r, torch.tensor([0.025, 0.975])).tolist()
    return {"ratio": float(a.mean() / b.mean()), "lo": lo, "hi": hi}


@torch.no_grad()
def ridge_baselines(train, test, lam: float = 10.0, n_fit: int = 4000) -> dict:
    """Per modality: a ridge classifier (one-vs-all, closed form) on crude features -- the
    frame average-pooled to <= 8x16 cells per channel, standardised -- fitted on training
    samples where the modality is present and clean, scored on the clean test samples."""
    out = {}
    k = int(max(int(train.cls.max()), int(test.cls.max())) + 1)
    for i, m in enumerate(MODALITIES):

        def feats(arr, rows, m=m):
            x = arr.frames[m][rows]
            h, w = x.shape[2], x.shape[3]
            x = F.adaptive_avg_pool2d(x, (min(8, h), min(16, w)))
            return x.flatten(1).double()

        tr = ((train.present[:, i] > 0) & (train.level[:, i] == 0)).nonzero().flatten()[:n_fit]
        te = ((test.present[:, i] > 0) & (test.level.sum(1) == 0)).nonzero().flatten()
        if len(tr) < 10 or len(te) == 0:
            continue
        xtr, xte = feats(train, tr), feats(test, te)
        mu, sd = xtr.mean(0), xtr.std(0).clamp_min(1e-6)
        xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
        xtr = torch.cat([xtr, torch.ones(len(xtr), 1, dtype=xtr.dtype)], 1)
        xte = torch.cat([xte, torch.ones(len(xte), 1, dtype=xte.dtype)], 1)
        y = F.one_hot(train.cls[tr], k).double() * 2 - 1
        w = torch.linalg.solve(
            xtr.T @ xtr + lam * torch.eye(xtr.shape[1], dtype=xtr.dtype), xtr.T @ y
        )
        out[m] = float(((xte @ w).argmax(1) == test.cls[te]).double().mean())
    return out


@torch.no_grad()
def evaluate_run(model, by_seed: list, static: dict, data: dict, val_out=None, log=print) -> dict:
    """by_seed: controllers per training seed [{"admn": {pct: c}, "universal": c, "ae": c}];
    static: S* per budget; data: recipe.load_data. val_out: alloc_outcomes on validation
    (computed when None)."""
    t0 = time.time()
    cfg, lm = model.cfg, model.cfg.layers_per_modality
    test, tinfo = data["test"]
    val = data["val"][0]
    counts, fam_l = alloc_family(FAMILY_PCTS, cfg)
    cache = cls_cache(model, test)
    # headroom budgets only on test (the family is ordered by budget: a prefix)
    n_room = int((fam_l <= budget_layers(HEADROOM_PCTS[-1], cfg.total_layers)).sum())
    test_out = alloc_outcomes(model, cache, test, counts[:n_room])
    if val_out is None:
        val_out = alloc_outcomes(model, cls_cache(model, val), val, counts)
    log(f"eval: outcomes of {n_room} allocations {time.time() - t0:.0f}s")
    room = headroom(
        val_out, test_out, conditions(val), conditions(test), counts, fam_l, HEADROOM_PCTS, cfg
    )
    # per-sample results: policy -> pct -> list over seeds of eval_masks dicts
    per = {}
    for policy in POLICIES:
        for pct in PCTS:
            runs = []
            seeds = by_seed if policy in CTRL_POLICIES else [None]
            for ctrls in seeds:
                if policy in CTRL_POLICIES and policy not in ctrls:
                    continue
                mask, qoi = policy_mask(
                    model, ctrls or {}, static, policy, pct, test.frames, test.present
                )
                r = eval_masks(model, cache, test, mask)
                if qoi is not None:
                    r["qoi"] = qoi
                runs.append(r)
            if runs:
                per.setdefault(policy, {})[pct] = runs
    log(f"eval: policies {time.time() - t0:.0f}s")
    part, names = tinfo["part"], tinfo["names"]

    def summarise(runs, rows):
        e = torch.stack([r["err"][rows] for r in runs])
        h = torch.stack([r["hit"][rows] for r in runs])
        lay = torch.stack([r["layers"][rows].mean(0) for r in runs]).mean(0)
        out = {
            "err_cm": float(e.mean()),
            "err_cm_seeds": [float(x) for x in e.mean(1)],
            "acc": float(h.mean()),
            "layers": lay.tolist(),
        }
        if "qoi" in runs[0]:
            out["qoi"] = torch.stack([r["qoi"][rows].mean(0) for r in runs]).mean(0).tolist()
        return out

    groups = {"mix": torch.arange(len(test))}
    for j, nm in enumerate(names):
        groups[nm] = (part == j).nonzero().flatten()
    table = {
        g: {
            pol: {str(p): summarise(runs, rows) for p, runs in by.items()}
            for pol, by in per.items()
        }
        for g, rows in groups.items()
    }
    for pct in HEADROOM_PCTS:
        r = room[str(pct)]
        for g, rows in groups.items():
            table[g].setdefault("condition oracle", {})[str(pct)] = {
                "err_cm": float(r["condition_oracle_err"][rows].mean())
            }

    def mean_err(policy, pct, rows=None):
        rows = groups["mix"] if rows is None else rows
        return torch.stack([r["err"][rows] for r in per[policy][pct]]).mean(0)

    tg = []

    def target(name, a, b, limit, need_ci=False, extra=""):
        ci = ratio_ci(a, b)
        met = ci["ratio"] <= limit and (ci["hi"] < 1.0 if need_ci else True)
        tg.append(
            {
                "target": name,
                **ci,
                "limit": limit,
                "ci_must_exclude_1": need_ci,
                "met": met,
                "note": extra,
            }
        )

    clean_rows = groups.get("clean", groups["mix"])
    if "admn" in per:
        target("admn vs static, 25%", mean_err("admn", 25), mean_err("static", 25), 0.90, True)
        target("admn vs static, 33%", mean_err("admn", 33), mean_err("static", 33), 0.93, True)
        target("admn vs naive, 25%", mean_err("admn", 25), mean_err("naive", 25), 0.5)
    if "universal" in per:
        target("universal vs static, 25%", mean_err("universal", 25), mean_err("static", 25), 0.92)
    for pol in QOI_AWARE:
        if pol not in per:
            continue
        worst = max(
            FAMILY_PCTS,
            key=lambda p: float(
                mean_err(pol, p, clean_rows).mean() / mean_err("static", p, clean_rows).mean()
            ),
        )
        target(
            f"{pol} vs static on clean (worst budget: {worst}%)",
            mean_err(pol, worst, clean_rows),
            mean_err("static", worst, clean_rows),
            1.02,
        )
    target(
        "condition oracle vs S*, 25%",
        room["25"]["condition_oracle_err"],
        room["25"]["s_star_err"],
        0.85,
    )

    # depth curves and clean-vs-corrupted from the cache (fusion with some modalities only)
    def alone(rows, only, k, drop=None):
        pres = test.present[rows].clone()
        keep = torch.ones_like(pres)
        if only is not None:
            keep = torch.zeros_like(pres)
            keep[:, MODALITIES.index(only)] = 1
        if drop is not None:
            keep[:, MODALITIES.index(drop)] = 0
        pres = pres * keep
        ok = pres.sum(1) > 0
        cls = cache[rows][ok][:, :, k - 1] * pres[ok][:, :, None]
        mean, _, logits = model.fusion(cls, pres[ok], return_logits=True)
        return {
            "err_cm": float((mean - test.xy[rows][ok]).norm(dim=1).mean()),
            "acc": float((logits.argmax(1) == test.cls[rows][ok]).float().mean()),
        }

    curves = {
        (only or "all"): [{"layers": k, **alone(clean_rows, only, k)} for k in range(1, lm + 1)]
        for only in [*MODALITIES, None]
    }
    checks = {}
    for j, nm in enumerate(names):
        spec = tinfo["parts"][j]["spec"]
        if spec == "clean":
            continue
        m = spec.split(":")[0]
        rows = groups[nm]
        checks[nm] = {
            "modality": m,
            "alone_clean": alone(clean_rows, m, lm),
            "alone_corrupted": alone(rows, m, lm) if ":off" not in spec.split(",")[0] else None,
            "all_clean": alone(clean_rows, None, lm)["err_cm"],
            "all_corrupted": alone(rows, None, lm)["err_cm"],
        }
    results = {
        "table": table,
        "groups": {g: len(r) for g, r in groups.items()},
        "static": {str(p): v for p, v in static.items()},
        "headroom": strip(room),
        "targets": tg,
        "depth_curves": curves,
        "checks": checks,
        "ridge": ridge_baselines(data["train"][0], test),
        "centre_baseline_cm": float(test.xy[clean_rows].norm(dim=1).mean()),
        "seeds": len(by_seed),
        "mix": tinfo["parts"],
    }
    results["summary"] = summary(results)
    results["seconds"] = time.time() - t0
    return results


def summary(results) -> dict:
    t = results["table"]["mix"]
    return {
        "test": "held-out per-sample mix (test seeds), mean over controller seeds",
        "loc_err_cm": {pol: {p: v["err_cm"] for p, v in by.items()} for pol, by in t.items()},
        "class_acc": {
            pol: {p: v["acc"] for p, v in by.items() if "acc" in v} for pol, by in t.items()
        },
        "clean_full": {
            "loc_err_cm": results["table"]["clean"]["full"]["100"]["err_cm"]
            if "clean" in results["table"]
            else None,
            "class_acc": results["table"]["clean"]["full"]["100"]["acc"]
            if "clean" in results["table"]
            else None,
        },
        "static": results["static"],
        "targets_met": {x["target"]: x["met"] for x in results["targets"]},
    }


def main(argv=None):
    from .recipe import PRESETS, REPO, THREADS, load_data, load_run
    from .report import write_report

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="full")
    ap.add_argument("--run-dir", default=None)
    ap.add_argument("--artifacts", default=None, help="model folder whose manifest gets metrics")
    ap.add_argument("--docs", default=str(REPO / "docs" / "ADMN_RESULTS.md"))
    a = ap.parse_args(argv)
    torch.set_num_threads(THREADS)
    preset = PRESETS[a.config]
    run_dir = Path(a.run_dir) if a.run_dir else REPO / ".data" / "runs" / a.config
    model, by_seed, static, info = load_run(run_dir)
    data = load_data(run_dir, preset, info.get("synthetic", False))
    results = evaluate_run(model, by_seed, static, data)
    art = Path(a.artifacts) if a.artifacts else REPO / "model-artifacts" / info["model_name"]
    mpath = art / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["metrics"] = results["summary"]
    mpath.write_text(json.dumps(manifest, indent=1) + "\n")
    write_report(results, manifest, info, Path(a.docs))


if __name__ == "__main__":
    main()
