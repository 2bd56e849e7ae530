"""Stage 1 (backbones with LayerDrop) and stage 2 (controllers: admn, ae, universal) training."""

from __future__ import annotations

import itertools
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
    budget_layers,
    forced_and_candidates,
    gumbel_topk_st,
    loc_loss,
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


def task_loss(mean, cov, logits, b: Arrays, unit_cm: float, nll_weight: float = 1.0):
    loc = loc_loss(mean, cov, b.xy, unit_cm=unit_cm, nll_weight=nll_weight)
    return loc + F.cross_entropy(logits, b.cls)


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


def sample_layers(cfg: ADMNConfig, rng, p: float, full_drop: float) -> dict:
    """Per modality for this batch: only layer 0 with prob full_drop, else each other layer
    kept with prob 1-p. Layer 0 is always kept (it is always on at inference)."""
    out = {}
    for m in MODALITIES:
        if rng.uniform() < full_drop:
            out[m] = [0]
        else:
            out[m] = [0] + [i for i in range(1, cfg.layers_per_modality) if rng.uniform() >= p]
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
) -> dict:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    t0, hist, layers_run = time.time(), [], 0
    for step in range(steps):
        cosine_lr(opt, step, steps, lr)
        b = drop_modalities(data.take(rng.integers(0, len(data), batch)), rng, modality_drop)
        p = layerdrop_rate(step, steps)
        layers = sample_layers(model.cfg, rng, p, full_drop if step >= steps // 10 else 0.0)
        layers_run += sum(len(v) for v in layers.values())
        out = model.forward_layers(b.frames, b.present, layers)
        mean, cov, logits = out[:3]
        nll_w = min(1.0, step / max(1.0, 0.1 * steps))  # NLL ramped in over the first 10%
        loss = task_loss(mean, cov, logits, b, model.cfg.cov_unit_cm, nll_w)
        if len(out) > 3:  # unimodal auxiliary heads: distance (10 cm units) + CE, present only
            for i, m in enumerate(MODALITIES):
                am, al = out[3][m]
                w = b.present[:, i]
                d = (am - b.xy).norm(dim=1) / model.cfg.cov_unit_cm
                ce = F.cross_entropy(al, b.cls, reduction="none")
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
    model.eval()
    return {
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


def sample_budget(rng, n, lo, hi, total):
    """Per-sample budget fractions uniform in [lo, hi] -> (fractions (n,1), layer counts (n,))."""
    f = torch.as_tensor(rng.uniform(lo, hi, size=(n, 1)), dtype=torch.float32)
    L = torch.tensor([budget_layers(float(x), total) for x in f[:, 0]])
    return f, L


def corruption_loss(qoi, b: Arrays):
    """L1 between qoi and 1 - corruption level on present modalities (the paper's L_corr)."""
    target = 1.0 - b.level
    w = b.present
    return ((qoi - target).abs() * w).sum() / w.sum().clamp_min(1.0)


def train_controller(
    model: ADMN,
    ctrl: Controller,
    data: Arrays,
    steps: int,
    mode: str,
    budget_pct: float | None = None,
    budget_range=(0.2, 0.72),
    batch: int = 32,
    lr: float = 2e-3,
    corr_weight: float = 1.0,
    corr_warmup: int = 0,
    seed: int = 0,
    log=None,
    modality_drop: float = 0.0,
    name: str = "",
    gumbel_noise: float = 0.1,
    relax: str = "softmax",
) -> dict:
    """mode: 'admn' (fixed budget, corruption head supervised), 'universal' (sampled budgets,
    corruption head supervised), 'ae_head' (sampled budgets, only the logit head trained, no
    corruption labels). corr_warmup: steps of corruption-only training first (no backbone).
    gumbel_noise, relax: see `gumbel_topk_st` (defaults: the committed recipe)."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    freeze(model)
    total = model.cfg.total_layers
    if mode == "ae_head":
        params = list(ctrl.head.parameters())
    else:
        params = [p for p in ctrl.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    ctrl.train()
    t0, hist = time.time(), []
    supervised = mode in ("admn", "universal")
    for step in range(corr_warmup if supervised else 0):
        cosine_lr(opt, step, corr_warmup, lr, warmup=20)
        b = drop_modalities(data.take(rng.integers(0, len(data), batch)), rng, modality_drop)
        budget = None
        if ctrl.budget_input:
            budget, _ = sample_budget(rng, batch, *budget_range, total)
        _, qoi = ctrl(b.frames, b.present, budget)
        loss = corruption_loss(qoi, b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            log_line(
                log,
                f"ctrl {name} corr-warmup {step + 1}/{corr_warmup} L1 {float(loss.detach()):.3f}",
            )
    for step in range(steps):
        cosine_lr(opt, step, steps, lr, warmup=20)
        b = drop_modalities(data.take(rng.integers(0, len(data), batch)), rng, modality_drop)
        if mode == "admn":
            budget, L = None, budget_layers(budget_pct, total)
        else:
            budget, L = sample_budget(rng, batch, *budget_range, total)
        if mode == "ae_head":
            with torch.no_grad():
                h = ctrl.encode(b.frames, b.present, None)
            logits, qoi = ctrl.heads(h, budget)
        else:
            logits, qoi = ctrl(b.frames, b.present, budget if ctrl.budget_input else None)
        mask = gumbel_topk_st(logits, b.present, L, noise=gumbel_noise, relax=relax)
        mean, cov, cls_logits = model.forward_masked(b.frames, b.present, mask)
        loss = task_loss(mean, cov, cls_logits, b, model.cfg.cov_unit_cm)
        if supervised:
            loss = loss + corr_weight * corruption_loss(qoi, b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        hist.append(float(loss.detach()))
        if (step + 1) % 50 == 0 or step == steps - 1:
            err = float((mean - b.xy).detach().norm(dim=1).mean())
            log_line(
                log,
                f"ctrl {name} step {step + 1}/{steps} loss {np.mean(hist[-50:]):.3f} "
                f"err {err:.1f}cm {time.time() - t0:.0f}s",
            )
    ctrl.eval()
    return {"steps": steps, "corr_warmup": corr_warmup, "seconds": time.time() - t0}


# ----------------------------------------------------------------------------------------------
# stage 2 by per-sample targets ("distill"): see docs/TRAINING.md, "Stage 2: why the controllers
# do not react" -- the Gumbel/straight-through loop above learns one static allocation per budget
# ----------------------------------------------------------------------------------------------
def _spread(k: int, lm: int) -> list:
    """k of lm layer indices, evenly spread from the first to the last."""
    return [0] if k == 1 else [int(math.floor(t * (lm - 1) / (k - 1) + 0.5)) for t in range(k)]


@torch.no_grad()
def best_allocations(model, data: Arrays, pct: int, chunk: int = 500) -> torch.Tensor:
    """Per sample: the layer mask (evenly spread layers per modality) whose per-sample task loss
    is lowest among all per-modality counts summing to the budget. (N, M*Lm) bool."""
    cfg, lm = model.cfg, model.cfg.layers_per_modality
    L = budget_layers(pct, cfg.total_layers)
    allocs = [c for c in itertools.product(range(1, lm + 1), repeat=len(MODALITIES)) if sum(c) == L]
    out = torch.zeros(len(data), cfg.total_layers, dtype=torch.bool)
    u = cfg.cov_unit_cm
    for s in range(0, len(data), chunk):
        b = data.take(torch.arange(s, min(len(data), s + chunk)))
        cache = {}
        for i, m in enumerate(MODALITIES):
            bb = model.backbones[m]
            x0 = bb.embed(b.frames[m])
            for k in range(1, lm + 1):
                x = x0
                for li in _spread(k, lm):
                    x = bb.layers[li](x)
                cache[(m, k)] = x[:, 0] * b.present[:, i : i + 1]
        losses = []
        for c in allocs:
            cls = torch.stack([cache[(m, k)] for m, k in zip(MODALITIES, c, strict=True)], 1)
            mean, cov, logits = model.fusion(cls, b.present, return_logits=True)
            d, cv = (b.xy - mean) / u, cov / u**2
            det = cv[:, 0, 0] * cv[:, 1, 1] - cv[:, 0, 1] * cv[:, 1, 0]
            maha = (d[:, 0] ** 2 * cv[:, 1, 1] + d[:, 1] ** 2 * cv[:, 0, 0]) / det
            maha = maha - 2 * d[:, 0] * d[:, 1] * cv[:, 0, 1] / det
            nll = 0.5 * (maha + torch.log(det))
            dist = torch.sqrt((d**2).sum(-1) + 1e-8)
            ce = F.cross_entropy(logits, b.cls, reduction="none")
            losses.append(nll + 0.5 * dist + ce)
        best = torch.stack(losses, 1).argmin(1)
        for r, j in enumerate(best.tolist()):
            for i, k in enumerate(allocs[j]):
                if b.present[r, i] > 0:
                    for li in _spread(k, lm):
                        out[s + r, i * lm + li] = True
    return out


def train_distilled(
    ctrl: Controller,
    data: Arrays,
    target: torch.Tensor,
    steps: int,
    batch: int = 32,
    lr: float = 2e-3,
    seed: int = 102,
    warmup: int = 300,
    log=None,
    name: str = "",
) -> dict:
    """The logit head learns the per-sample best allocations `target` (BCE on the candidate
    layers), the corruption head its labels (L1), as in admn; no backbone in the loop.
    warmup: steps of corruption-only training first."""
    t0 = time.time()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    lm = ctrl.cfg.layers_per_modality
    params = [p for p in ctrl.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    ctrl.train()
    for step in range(warmup + steps):
        cosine_lr(opt, step, warmup + steps, lr, warmup=20)
        idx = rng.integers(0, len(data), batch)
        b = drop_modalities(data.take(idx), rng, 0.0)
        logits, qoi = ctrl(b.frames, b.present)
        loss = corruption_loss(qoi, b)
        if step >= warmup:
            _, cand = forced_and_candidates(b.present, lm)
            t = target[torch.as_tensor(idx)].float()
            bce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
            loss = loss + (bce * cand).sum() / cand.sum().clamp_min(1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 300 == 0 or step == warmup + steps - 1:
            msg = f"distill {step + 1}/{warmup + steps} loss {float(loss.detach()):.3f}"
            log_line(log, f"ctrl {name} {msg}")
    ctrl.eval()
    return {"steps": steps, "corr_warmup": warmup, "seconds": time.time() - t0}


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
