"""Stage 1 (backbones with LayerDrop) and stage 2 (controllers: admn, ae, universal) training."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .model import (
    ADMN,
    MODALITIES,
    ADMNConfig,
    AEDecoder,
    Controller,
    alloc_family,
    budget_layers,
    counts_mask,
    loc_loss,
    spread,
)


# ----------------------------------------------------------------------------------------------
# data in memory
# ----------------------------------------------------------------------------------------------
@dataclass
class Arrays:
    frames: dict  # m -> (N,C,H,W) float32 tensor, raw values
    present: torch.Tensor  # (N,M) float32
    xy: torch.Tensor  # (N,2) cm
    cls: torch.Tensor  # (N,) long
    level: torch.Tensor  # (N,M) corruption level 0..1
    ctype: torch.Tensor  # (N,M) long

    def __len__(self) -> int:
        return self.xy.shape[0]

    def take(self, idx) -> Arrays:
        idx = torch.as_tensor(idx, dtype=torch.long)
        return Arrays(
            {m: v[idx] for m, v in self.frames.items()},
            self.present[idx],
            self.xy[idx],
            self.cls[idx],
            self.level[idx],
            self.ctype[idx],
        )

    @staticmethod
    def cat(parts: list[Arrays]) -> Arrays:
        return Arrays(
            {m: torch.cat([p.frames[m] for p in parts]) for m in MODALITIES},
            torch.cat([p.present for p in parts]),
            torch.cat([p.xy for p in parts]),
            torch.cat([p.cls for p in parts]),
            torch.cat([p.level for p in parts]),
            torch.cat([p.ctype for p in parts]),
        )


def to_arrays(ds) -> Arrays:
    """From a `qoiflow_train.data` Dataset (or the synthetic stand-in) to tensors."""
    present = torch.as_tensor(np.asarray(ds.present), dtype=torch.float32)
    frames = {}
    for i, m in enumerate(MODALITIES):
        x = torch.as_tensor(np.ascontiguousarray(ds.frames[m], dtype=np.float32))
        frames[m] = x * present[:, i, None, None, None]  # missing modality -> zeros
    return Arrays(
        frames,
        present,
        torch.as_tensor(np.asarray(ds.target_xy, dtype=np.float32)),
        torch.as_tensor(np.asarray(ds.target_class, dtype=np.int64)),
        torch.as_tensor(np.asarray(ds.corruption_level, dtype=np.float32)).clamp(0, 1),
        torch.as_tensor(np.asarray(ds.corruption_type, dtype=np.int64)),
    )


def frame_stats(data: Arrays) -> dict:
    """Per-modality, per-channel mean/std of raw values over present samples."""
    out = {}
    for i, m in enumerate(MODALITIES):
        x = data.frames[m][data.present[:, i] > 0]
        if x.shape[0] == 0:
            x = data.frames[m]
        x = x.transpose(0, 1).reshape(x.shape[1], -1).double()
        out[m] = (x.mean(1).float(), x.std(1).float())
    return out


def apply_stats(model: ADMN | None, ctrl: Controller | None, stats: dict) -> None:
    for m, (mu, sd) in stats.items():
        if model is not None:
            model.backbones[m].embed.norm.set_stats(mu, sd)
        if ctrl is not None:
            # the controller sees avg-pooled frames: same per-channel mean, std ~ unchanged scale
            ctrl.stems[m].norm.set_stats(mu, sd)


def drop_modalities(b: Arrays, rng: np.random.Generator, p: float) -> Arrays:
    """Augmentation: each present modality missing with prob p (at least one stays)."""
    if p <= 0:
        return b
    keep = torch.as_tensor(rng.uniform(size=tuple(b.present.shape)) >= p)
    keep[keep.sum(1) == 0, int(rng.integers(0, len(MODALITIES)))] = True
    present = b.present * keep.float()
    present[present.sum(1) == 0] = b.present[present.sum(1) == 0]
    frames = {m: b.frames[m] * present[:, i, None, None, None] for i, m in enumerate(MODALITIES)}
    return Arrays(frames, present, b.xy, b.cls, b.level, b.ctype)


def task_loss(
    mean, cov, logits, b: Arrays, unit_cm: float, nll_weight: float = 1.0, cls_weight: float = 1.0
):
    loc = loc_loss(mean, cov, b.xy, unit_cm=unit_cm, nll_weight=nll_weight)
    return loc + cls_weight * F.cross_entropy(logits, b.cls)


def cosine_lr(opt, step, steps, base, warmup=50):
    lr = base * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / steps))
    for g in opt.param_groups:
        g["lr"] = lr


def log_line(log, msg):
    if log is not None:
        log(msg)


# ----------------------------------------------------------------------------------------------
# stage 1
# ----------------------------------------------------------------------------------------------
def layerdrop_rate(step: int, steps: int, final: float = 0.2) -> float:
    """0 for the first 20% of steps, then final/2 until 50%, then final (ramp 0 -> 0.2)."""
    f = step / max(1, steps)
    return 0.0 if f < 0.2 else (final / 2 if f < 0.5 else final)


def sample_layers(cfg: ADMNConfig, rng, p: float, full_drop: float, depth_draw: float = 0.0):
    """Per modality for this batch: with prob depth_draw a layer count k uniform in 1..Lm with
    evenly spread layers (what the static/controller allocations run, so every depth is
    trained); else only layer 0 with prob full_drop, else each other layer kept with prob 1-p.
    Layer 0 is always kept (it is always on at inference)."""
    out = {}
    lm = cfg.layers_per_modality
    deep = rng.uniform() < depth_draw  # one draw per batch: all modalities at random depths
    for m in MODALITIES:
        if deep:
            out[m] = spread(int(rng.integers(1, lm + 1)), lm)
        elif rng.uniform() < full_drop:
            out[m] = [0]
        else:
            out[m] = [0] + [i for i in range(1, lm) if rng.uniform() >= p]
    return out


@torch.no_grad()
def modality_metrics(model: ADMN, data: Arrays, depths=None) -> dict:
    """Per modality alone (and all together): localization error (cm) and class accuracy at
    k evenly spread layers per used modality, k in depths (default 1, Lm/2, Lm)."""
    lm = model.cfg.layers_per_modality
    depths = depths or sorted({1, lm // 2, lm})
    was = model.training
    model.eval()
    out = {}
    for only in [*MODALITIES, "all"]:
        keep = torch.ones_like(data.present)
        if only != "all":
            keep = torch.zeros_like(data.present)
            keep[:, MODALITIES.index(only)] = 1
        present = data.present * keep
        ok = present.sum(1) > 0
        pres = present[ok]
        frames = {
            m: data.frames[m][ok] * pres[:, i, None, None, None] for i, m in enumerate(MODALITIES)
        }
        row = {}
        for k in depths:
            mean, _, logits = model.forward_layers(
                frames, pres, {m: spread(k, lm) for m in MODALITIES}
            )[:3]
            row[k] = (
                float((mean - data.xy[ok]).norm(dim=1).mean()),
                float((logits.argmax(1) == data.cls[ok]).float().mean()),
            )
        out[only] = row
    model.train(was)
    return out


def train_stage1(
    model: ADMN,
    data: Arrays,
    steps: int,
    batch: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    log=None,
    full_drop: float = 0.1,
    modality_drop: float = 0.0,
    aux_weight: float = 0.3,
    depth_draw: float = 0.0,
    cls_weight: float = 1.0,
    val: Arrays | None = None,
    eval_every: int = 0,
    metrics_log=None,
    time_budget_s: float = 0.0,
) -> dict:
    """depth_draw: fraction of batches with a uniform layer count per modality (sample_layers).
    val, eval_every, metrics_log: every eval_every steps, per-modality error/accuracy at a few
    depths on `val` and on as many training samples (modality_metrics), appended as JSON lines
    to the file metrics_log. time_budget_s > 0: from step 200 on, every 100 steps the step
    count is cut to what fits the budget at the pace of the last 100 steps (the schedules
    follow the new count)."""
    import json

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    t0, hist, layers_run, evals = time.time(), [], 0, []
    planned, t_last = steps, time.time()
    step = 0
    while step < steps:
        if time_budget_s > 0 and step % 100 == 0 and step >= 100:
            # re-plan every 100 steps from the pace of the last 100 (the machine is shared and
            # its load changes); the count only shrinks, the schedules follow it
            if step >= 200:
                pace = (time.time() - t_last) / 100 * 1.1  # + evaluation and slack
                fit = int(step + (time_budget_s - (time.time() - t0)) / pace)
                if fit < steps:
                    steps = max(step + 50, fit)
                    log_line(log, f"stage1: {steps} of {planned} planned steps fit the budget")
            t_last = time.time()
        cosine_lr(opt, step, steps, lr)
        b = drop_modalities(data.take(rng.integers(0, len(data), batch)), rng, modality_drop)
        p = layerdrop_rate(step, steps)
        layers = sample_layers(
            model.cfg, rng, p, full_drop if step >= steps // 10 else 0.0, depth_draw
        )
        layers_run += sum(len(v) for v in layers.values())
        out = model.forward_layers(b.frames, b.present, layers)
        mean, cov, logits = out[:3]
        nll_w = min(1.0, step / max(1.0, 0.1 * steps))  # NLL ramped in over the first 10%
        loss = task_loss(mean, cov, logits, b, model.cfg.cov_unit_cm, nll_w, cls_weight)
        if len(out) > 3:  # unimodal auxiliary heads: distance (10 cm units) + CE, present only
            for i, m in enumerate(MODALITIES):
                am, al = out[3][m]
                w = b.present[:, i]
                d = (am - b.xy).norm(dim=1) / model.cfg.cov_unit_cm
                ce = cls_weight * F.cross_entropy(al, b.cls, reduction="none")
                loss = loss + aux_weight * ((d + ce) * w).sum() / w.sum().clamp_min(1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        hist.append(float(loss.detach()))
        if (step + 1) % 50 == 0 or step == steps - 1:
            err = float((mean - b.xy).detach().norm(dim=1).mean())
            log_line(
                log,
                f"stage1 step {step + 1}/{steps} p={p:.2f} loss {np.mean(hist[-50:]):.3f} "
                f"err {err:.1f}cm {time.time() - t0:.0f}s",
            )
        if val is not None and eval_every and ((step + 1) % eval_every == 0 or step == steps - 1):
            tr = data.take(torch.arange(min(len(data), len(val))))
            rec = {
                "step": step + 1,
                "seconds": time.time() - t0,
                "train": modality_metrics(model, tr),
                "val": modality_metrics(model, val),
            }
            evals.append(rec)
            if metrics_log is not None:
                with open(metrics_log, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            v = rec["val"]
            lm = model.cfg.layers_per_modality
            log_line(
                log,
                f"stage1 val @{step + 1} (cm/acc% at {lm} layers): "
                + ", ".join(f"{m} {v[m][lm][0]:.0f}/{100 * v[m][lm][1]:.0f}" for m in v),
            )
        step += 1
    model.eval()
    return {
        "planned_steps": planned,
        "evals": evals,
        "steps": steps,
        "batch": batch,
        "seconds": time.time() - t0,
        "final_loss": float(np.mean(hist[-50:])),
        "mean_layers_per_step": layers_run / max(1, steps),
    }


# ----------------------------------------------------------------------------------------------
# stage 2: controllers
# ----------------------------------------------------------------------------------------------
def freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()


def corruption_loss(qoi, b: Arrays):
    """L1 between qoi and 1 - corruption level on present modalities (the paper's L_corr)."""
    target = 1.0 - b.level
    w = b.present
    return ((qoi - target).abs() * w).sum() / w.sum().clamp_min(1.0)


# ----------------------------------------------------------------------------------------------
# allocation outcomes: the loss of every allocation of a family, per sample. A modality's CLS
# depends only on its own layers, so the CLS of each (modality, count) is computed once
# (`cls_cache`) and each allocation is one fusion pass. Used by the headroom tool, the
# expected-loss controller training and the evaluation (one place).
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def cls_cache(model: ADMN, data: Arrays, chunk: int = 250) -> torch.Tensor:
    """(N, M, Lm, D): the CLS token of each modality after k = 1..Lm evenly spread layers
    (index k-1); zeros for a missing modality."""
    lm = model.cfg.layers_per_modality
    out = torch.zeros(len(data), len(MODALITIES), lm, model.cfg.dim)
    for s in range(0, len(data), chunk):
        idx = torch.arange(s, min(len(data), s + chunk))
        b = data.take(idx)
        for i, m in enumerate(MODALITIES):
            bb = model.backbones[m]
            x0 = bb.embed(b.frames[m])
            for k in range(1, lm + 1):
                x = x0
                for li in spread(k, lm):
                    x = bb.layers[li](x)
                out[idx, i, k - 1] = x[:, 0] * b.present[:, i : i + 1]
    return out


def per_sample_loss(mean, cov, logits, xy, cls, unit_cm: float, cls_weight: float = 1.0):
    """The task loss per sample (Gaussian NLL + 0.5 distance, 10 cm units, + CE): (B,)."""
    d, cv = (xy - mean) / unit_cm, cov / unit_cm**2
    det = cv[:, 0, 0] * cv[:, 1, 1] - cv[:, 0, 1] * cv[:, 1, 0]
    maha = (d[:, 0] ** 2 * cv[:, 1, 1] + d[:, 1] ** 2 * cv[:, 0, 0]) / det
    maha = maha - 2 * d[:, 0] * d[:, 1] * cv[:, 0, 1] / det
    nll = 0.5 * (maha + torch.log(det))
    dist = torch.sqrt((d**2).sum(-1) + 1e-8)
    return nll + 0.5 * dist + cls_weight * F.cross_entropy(logits, cls, reduction="none")


@torch.no_grad()
def alloc_outcomes(model: ADMN, cache, data: Arrays, counts, rows: int = 8192) -> dict:
    """Per sample and allocation (counts (K,M), >= 1 each): task loss, error (cm), class
    cross-entropy and hit. -> {"loss", "err", "ce": (N,K) f32, "hit": (N,K) bool}."""
    n, k_all = len(data), counts.shape[0]
    out = {
        "loss": torch.zeros(n, k_all),
        "err": torch.zeros(n, k_all),
        "ce": torch.zeros(n, k_all),
        "hit": torch.zeros(n, k_all, dtype=torch.bool),
    }
    u = model.cfg.cov_unit_cm
    ar_m = torch.arange(len(MODALITIES))
    chunk = max(1, min(n, 1024))
    for s in range(0, n, chunk):
        idx = torch.arange(s, min(n, s + chunk))
        c = cache[idx]  # (n,M,Lm,D)
        pres, xy, cl = data.present[idx], data.xy[idx], data.cls[idx]
        g = max(1, rows // len(idx))
        for a in range(0, k_all, g):
            cc = counts[a : a + g]  # (G,M)
            tok = c[:, ar_m[None, :], cc - 1]  # (n,G,M,D)
            nn_, gg = tok.shape[0], tok.shape[1]
            tok = tok.reshape(nn_ * gg, len(MODALITIES), -1)
            pres_r = pres.repeat_interleave(gg, 0)
            xy_r, cl_r = xy.repeat_interleave(gg, 0), cl.repeat_interleave(gg, 0)
            mean, cov, logits = model.fusion(tok, pres_r, return_logits=True)
            loss = per_sample_loss(mean, cov, logits, xy_r, cl_r, u)
            out["loss"][idx, a : a + gg] = loss.reshape(nn_, gg)
            out["err"][idx, a : a + gg] = (mean - xy_r).norm(dim=1).reshape(nn_, gg)
            out["hit"][idx, a : a + gg] = (logits.argmax(1) == cl_r).reshape(nn_, gg)
            out["ce"][idx, a : a + gg] = F.cross_entropy(logits, cl_r, reduction="none").reshape(
                nn_, gg
            )
    return out


@torch.no_grad()
def best_allocations(model, data: Arrays, pct: int, chunk: int = 500) -> torch.Tensor:
    """Per sample: the layer mask (evenly spread layers per modality) whose per-sample task loss
    is lowest among all per-modality counts summing to the budget. (N, M*Lm) bool."""
    counts, _ = alloc_family((pct,), model.cfg)
    res = alloc_outcomes(model, cls_cache(model, data, chunk), data, counts)
    best = counts_mask(counts, model.cfg.layers_per_modality)[res["loss"].argmin(1)]
    p = data.present.bool()[:, :, None].expand(-1, -1, model.cfg.layers_per_modality)
    return best & p.reshape(len(data), -1)


def controller_loss_table(outcomes: dict, cls_weight: float = 0.5) -> torch.Tensor:
    """What the controllers minimise per sample and allocation: the localization error in
    10 cm units (the metric every target is stated in) + cls_weight x class cross-entropy."""
    return outcomes["err"] / 10.0 + cls_weight * outcomes["ce"]


def train_expected(
    ctrl: Controller,
    data: Arrays,
    loss_table: torch.Tensor,
    steps: int,
    batch: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    warmup: int = 300,
    corr_weight: float = 1.0,
    log=None,
    name: str = "",
) -> dict:
    """Controllers trained on expected loss: the head's softmax over the allocation family
    (ctrl.family_pcts) weights each allocation's precomputed per-sample task loss
    (`alloc_outcomes`, loss_table (N,K) over the same family), so the minimum is the allocation
    with the lowest expected loss given what the controller sees (the condition oracle, not a
    noisy per-sample argmin). + the corruption L1 (not for `ae`, whose encoder is frozen and
    label-free). With a budget input, each sample draws one of the family's budgets.
    warmup: corruption-only steps first (supervised controllers)."""
    t0 = time.time()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    supervised = not ctrl.qoi_from_logits
    params = [p for p in ctrl.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    levels = sorted({budget_layers(p, ctrl.cfg.total_layers) for p in ctrl.family_pcts})
    frac = {budget_layers(p, ctrl.cfg.total_layers): p / 100.0 for p in ctrl.family_pcts}
    # loss scale: per-sample losses differ by sample; centring per sample keeps the softmax
    # gradient about the differences between allocations
    ctrl.train()
    hist = []
    n_warm = warmup if supervised else 0
    for step in range(n_warm + steps):
        cosine_lr(opt, step, n_warm + steps, lr, warmup=20)
        idx = torch.as_tensor(rng.integers(0, len(data), batch))
        b = data.take(idx)
        budget = None
        if ctrl.budget_input:
            lv = rng.choice(levels, size=batch)
            budget = torch.tensor([[frac[int(x)]] for x in lv], dtype=torch.float32)
        if not supervised:
            with torch.no_grad():
                h = ctrl.encode(b.frames, b.present, None)
        else:
            h = ctrl.encode(b.frames, b.present, budget)
        loss = torch.zeros(())
        if supervised:
            qoi = torch.sigmoid(ctrl.qoi_head(h[:, 1:])).squeeze(-1)
            loss = loss + corr_weight * corruption_loss(qoi, b)
        if step >= n_warm:
            a = ctrl.alloc_logits(h, budget)
            lt = loss_table[idx]
            lt = lt - lt.min(1, keepdim=True).values
            exp_loss = (a.softmax(1) * lt).sum(1).mean()
            loss = loss + exp_loss
            hist.append(float(exp_loss.detach()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (step + 1) % 300 == 0 or step == n_warm + steps - 1:
            msg = f"expected-loss {step + 1}/{n_warm + steps}"
            if hist:
                msg += f" regret {np.mean(hist[-100:]):.3f}"
            log_line(log, f"ctrl {name} {msg} {time.time() - t0:.0f}s")
    ctrl.eval()
    return {"steps": steps, "corr_warmup": n_warm, "seconds": time.time() - t0}


def pretrain_ae(ctrl: Controller, data: Arrays, steps: int, batch=64, lr=2e-3, seed=0, log=None):
    """AE variant: stems + combiner reconstruct the (standardised) downsampled inputs (MSE),
    the budget enters only the head, which is trained afterwards."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    dec = AEDecoder(ctrl.cfg)
    params = [p for n, p in ctrl.named_parameters() if not n.startswith(("head.", "qoi_head."))]
    params += list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    t0 = time.time()
    ctrl.train()
    for step in range(steps):
        cosine_lr(opt, step, steps, lr, warmup=20)
        b = drop_modalities(data.take(rng.integers(0, len(data), batch)), rng, 0.05)
        h = ctrl.encode(b.frames, b.present, None)
        rec = dec(h)
        loss = 0.0
        for i, m in enumerate(MODALITIES):
            tgt = ctrl.stems[m].downsample(b.frames[m])
            w = b.present[:, i, None, None, None]
            loss = loss + (((rec[m] - tgt) ** 2) * w).mean() / w.mean().clamp_min(1e-3)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0 or step == steps - 1:
            log_line(log, f"ae-pretrain {step + 1}/{steps} mse {float(loss.detach()) / 5:.4f}")
    for p in params:
        p.requires_grad_(False)
    for p in ctrl.head.parameters():
        p.requires_grad_(True)
    return {"steps": steps, "seconds": time.time() - t0}
