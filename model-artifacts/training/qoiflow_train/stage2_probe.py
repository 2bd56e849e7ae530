"""Stage-2 probe: trains ONE `admn` controller on a finished run's frozen stage 1 with the given
options and prints, per single-modality corruption regime, its error and layer allocation and
how much its layer logits vary between samples. The experiments in docs/TRAINING.md ("Why the
controllers do not react") were run with it, e.g.

    python -m qoiflow_train.stage2_probe --pct 50 --noise 1 --qoi-bias
    python -m qoiflow_train.stage2_probe --pct 25 --noise 1 --qoi-bias --relax sigmoid --focus 4800
    python -m qoiflow_train.stage2_probe --pct 25 --from-artifact   # the committed controller
    python -m qoiflow_train.stage2_probe --pct 25 --distill --steps 1500   # per-sample targets

It also prints the mask gradient the straight-through estimator passes on: the mean dLoss/dm of
each modality's chosen and unchosen layers at the controller's own selection (m = 1 chosen,
0 unchosen; negative = more of that layer would lower the loss).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .evaluate import SINGLE, run_policy
from .model import (
    ADMN,
    MODALITIES,
    ADMNConfig,
    Controller,
    budget_layers,
    forced_and_candidates,
    select_topk,
)
from .pipeline import PRESETS, REPO, THREADS, load_split, load_tests
from .train import (
    Arrays,
    apply_stats,
    corruption_loss,
    cosine_lr,
    drop_modalities,
    frame_stats,
    task_loss,
    train_controller,
)

# one heavily corrupted modality per sample, every frame corruption type of every modality
FOCUS_SPECS = [
    f"{m}:{t}:0.5-1.0"
    for m, ts in (
        ("camera", ("noise", "lowlight", "blur", "occlusion")),
        ("depth", ("noise", "missing")),
        ("mmwave", ("noise", "interference")),
        ("lidar", ("dropout", "noise")),
        ("audio", ("noise", "clipping")),
    )
    for t in ts
]
FOCUS_SEED = 31  # + 97 per spec; far from the test seeds (9001 + 1000 j)


def mask_gradient(model, ctrl, arr, pct) -> dict:
    """m -> (mean dLoss/dm over chosen layers, over unchosen layers) at the hard selection."""
    lm = model.cfg.layers_per_modality
    with torch.no_grad():
        logits, _ = ctrl(arr.frames, arr.present)
        hard = select_topk(logits, arr.present, budget_layers(pct, model.cfg.total_layers))
    mask = hard.float().requires_grad_(True)
    mean, cov, cls_logits = model.forward_masked(arr.frames, arr.present, mask)
    loss = task_loss(mean, cov, cls_logits, arr, model.cfg.cov_unit_cm)
    (g,) = torch.autograd.grad(loss, mask)
    g = g * len(arr)  # per-sample scale
    out = {}
    for i, m in enumerate(MODALITIES):
        sl = slice(i * lm + 1, (i + 1) * lm)  # optional layers only
        gi, hi = g[:, sl], hard[:, sl]
        chosen = float(gi[hi].mean()) if hi.any() else float("nan")
        unchosen = float(gi[~hi].mean()) if (~hi).any() else float("nan")
        out[m] = (chosen, unchosen)
    return out


def _spread(k: int, lm: int) -> list:
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


def train_distilled(ctrl, data: Arrays, target, steps, batch=32, lr=2e-3, seed=102, warmup=300):
    """The logit head learns the per-sample best allocations (BCE on the candidate layers), the
    corruption head its labels (L1), as in admn; no backbone in the loop."""
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
    ctrl.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", default="full")
    ap.add_argument("--run-dir", default=None, help="default: <repo>/.data/runs/<config>")
    ap.add_argument("--pct", type=int, default=50)
    ap.add_argument("--steps", type=int, default=None, help="default: the preset's ctrl_steps")
    ap.add_argument("--noise", type=float, default=0.1, help="Gumbel noise scale")
    ap.add_argument("--relax", default="softmax", choices=("softmax", "sigmoid"))
    ap.add_argument("--qoi-bias", action="store_true", help="Controller(qoi_logit_bias=True)")
    ap.add_argument("--focus", type=int, default=0, help="extra single-corruption samples")
    ap.add_argument("--save", default=None, help="write the controller's state_dict here")
    ap.add_argument(
        "--distill",
        action="store_true",
        help="instead of Gumbel/ST: learn per-sample best allocations (see best_allocations)",
    )
    ap.add_argument("--distill-samples", type=int, default=4000, help="targets for the first N")
    ap.add_argument(
        "--from-artifact",
        action="store_true",
        help="no training: the committed controller.admn.b<pct> of the preset's model folder",
    )
    a = ap.parse_args(argv)
    torch.set_num_threads(THREADS)
    preset = PRESETS[a.config]
    run_dir = Path(a.run_dir) if a.run_dir else REPO / ".data" / "runs" / a.config
    train, tinfo = load_split(
        run_dir, "train", ["random"], preset.n_train, preset.train_seed, False
    )
    cfg = ADMNConfig(num_classes=len(tinfo["class_names"]), **preset.cfg)
    model = ADMN(cfg)
    model.load_state_dict(torch.load(run_dir / "stage1.pt", weights_only=True))
    model.eval()
    stats = frame_stats(train)  # the controller's input statistics: the random mix, as in the run
    if a.focus:
        focus, _ = load_split(run_dir, "train_focus", FOCUS_SPECS, a.focus, FOCUS_SEED, False)
        train = Arrays.cat([train, focus])
    ctrl = Controller(cfg, qoi_logit_bias=a.qoi_bias)
    apply_stats(None, ctrl, stats)
    t0 = time.time()
    if a.from_artifact:
        state = torch.load(
            REPO / "model-artifacts" / preset.model_name / "torch_state.pt", weights_only=True
        )
        ctrl.load_state_dict(state[f"controller.admn.b{a.pct}"])
    elif a.distill:
        train = train.take(torch.arange(min(len(train), a.distill_samples)))
        target = best_allocations(model, train, a.pct)
        print(f"targets in {time.time() - t0:.0f}s", flush=True)
        train_distilled(ctrl, train, target, a.steps or preset.ctrl_steps, batch=preset.batch)
        print(f"trained in {time.time() - t0:.0f}s ({len(train)} samples)", flush=True)
    else:
        train_controller(
            model,
            ctrl,
            train,
            a.steps or preset.ctrl_steps,
            "admn",
            budget_pct=a.pct,
            batch=preset.batch,
            corr_warmup=preset.corr_warmup,
            seed=102,
            gumbel_noise=a.noise,
            relax=a.relax,
        )
        print(f"trained in {time.time() - t0:.0f}s ({len(train)} samples)", flush=True)
    ctrl.eval()
    if a.save:
        torch.save(ctrl.state_dict(), a.save)
    tests = load_tests(run_dir, preset, False)
    for regime in ["clean", *SINGLE]:
        arr = tests[regime][0]
        o = run_policy(model, {"admn": {a.pct: ctrl}}, arr, "admn", a.pct)
        with torch.no_grad():
            logits, _ = ctrl(arr.frames, arr.present)
        print(
            f"{regime:16s} err {o['err_cm']:5.1f} cm  acc {100 * o['acc']:3.0f}%  layers "
            + " ".join(f"{x:.1f}" for x in o["layers"])
            + "  qoi "
            + " ".join(f"{x:.2f}" for x in o["qoi"])
            + f"  logit std over samples {float(logits.std(0).mean()):.3f}",
            flush=True,
        )
        g = mask_gradient(model, ctrl, arr, a.pct)
        print(
            "    dLoss/dm chosen|unchosen: "
            + "  ".join(f"{m} {c:+.3f}|{u:+.3f}" for m, (c, u) in g.items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
