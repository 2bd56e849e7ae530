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
import time
from pathlib import Path

import torch

from .evaluate import SINGLE, run_policy
from .model import (
    ADMN,
    MODALITIES,
    ADMNConfig,
    Controller,
    budget_layers,
    select_topk,
)
from .pipeline import PRESETS, REPO, THREADS, load_split, load_tests
from .train import (
    Arrays,
    apply_stats,
    best_allocations,
    frame_stats,
    task_loss,
    train_controller,
    train_distilled,
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
        help="instead of Gumbel/ST: learn per-sample best allocations (train.best_allocations)",
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
