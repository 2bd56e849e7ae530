"""Fast strength probe of the simulated world, before any real training.

For each modality alone, a small conv net is trained for a fixed number of steps on the training mix
(`random`), then scored on clean test samples and on test samples where that modality is heavily
corrupted (every one of its corruption types at level 0.9-1.0, one drawn per sample, held-out types
included). It reports the target's localization error (cm) and class accuracy per modality, next
to the trivial baselines (always the mean position; always the most common class), so one can
check that no sensor dominates and that heavy corruption destroys a modality's information.

    python -m qoiflow_train.world_probe --out /tmp/probe [--train 5000] [--steps 400]

Data comes from `./qoiflow simulate` (or --sim CMD, a command taking the same options); files are
kept in --out and reused when present.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data import CLASS_NAMES, MODALITIES, SHAPES, load_dataset

REPO = Path(__file__).resolve().parents[3]
# The frame corruption types of each modality (CorruptionType.framesTypes in the simulator).
FRAME_TYPES = {
    "camera": ("noise", "lowlight", "blur", "occlusion"),
    "depth": ("noise", "missing"),
    "mmwave": ("noise", "interference"),
    "lidar": ("dropout", "noise"),
    "audio": ("noise", "clipping"),
}


def heavy_spec(modality: str, lo: float = 0.9) -> str:
    """One of the modality's corruption types at level lo-1.0 per sample."""
    return "|".join(f"{modality}:{t}:{lo}-1.0" for t in FRAME_TYPES[modality])


def simulate(sim: list[str], out: Path, n: int, seed: int, spec: str) -> Path:
    if out.exists():
        return out
    tmp = out.with_name(out.name + ".tmp")
    cmd = [*sim, "--samples", str(n), "--seed", str(seed), "--corruption", spec, "--out", str(tmp)]
    res = subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True)
    print(f"  simulated {out.name}: {res.stderr.strip().splitlines()[-1]}", flush=True)
    tmp.rename(out)
    return out


class ProbeNet(nn.Module):
    """Four 3x3 convs (three strided: cheap on one CPU thread) with coordinate channels -> MLP."""

    def __init__(self, channels: int):
        super().__init__()

        def block(cin, cout, stride):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
            )

        self.body = nn.Sequential(
            block(channels + 2, 24, 2),
            block(24, 48, 2),
            block(48, 64, 2),
            block(64, 64, 1),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(64 * 16, 192),
            nn.ReLU(inplace=True),
        )
        self.xy = nn.Linear(192, 2)
        self.cls = nn.Linear(192, len(CLASS_NAMES))

    def forward(self, x):
        n, _, h, w = x.shape
        yy = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(n, 1, h, w)
        xx = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(n, 1, h, w)
        z = self.body(torch.cat([x, yy, xx], 1))
        return self.xy(z), self.cls(z)


def normaliser(frames: np.ndarray):
    mean = frames.mean(axis=(0, 2, 3), keepdims=True)
    std = frames.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    return lambda a: torch.from_numpy(((a - mean) / std).astype(np.float32))


def train_probe(m: str, ds, steps: int, seed: int):
    j = MODALITIES.index(m)
    keep = ds.present[:, j]
    x = ds.frames[m][keep]
    norm = normaliser(x)
    xt = norm(x)
    yxy = torch.from_numpy(ds.target_xy[keep] / 100.0)
    ycls = torch.from_numpy(ds.target_class[keep])
    torch.manual_seed(seed)
    net = ProbeNet(SHAPES[m][0])
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    n = xt.shape[0]
    t0 = time.time()
    steps_done = 0
    epochs = 0
    gen = torch.Generator().manual_seed(seed)
    net.train()
    while steps_done < steps:
        perm = torch.randperm(n, generator=gen)
        for b in range(0, n - 63, 128):
            idx = perm[b : b + 128]
            pxy, pcls = net(xt[idx])
            loss = nn.functional.smooth_l1_loss(pxy, yxy[idx]) + nn.functional.cross_entropy(
                pcls, ycls[idx]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps_done += 1
            if steps_done >= steps:
                break
        epochs += 1
    net.eval()
    fit = {"train_samples": int(n), "steps": steps_done, "epochs": epochs}
    fit["seconds"] = round(time.time() - t0, 1)
    return net, norm, fit


@torch.no_grad()
def score(net, norm, m: str, ds) -> dict:
    j = MODALITIES.index(m)
    keep = ds.present[:, j]
    x = norm(ds.frames[m][keep])
    pxy = []
    pcls = []
    for b in range(0, x.shape[0], 256):
        a, c = net(x[b : b + 256])
        pxy.append(a)
        pcls.append(c)
    xy = torch.cat(pxy).numpy() * 100.0
    cls = torch.cat(pcls).argmax(1).numpy()
    err = np.linalg.norm(xy - ds.target_xy[keep], axis=1)
    return {
        "loc_cm": float(err.mean()),
        "acc": float((cls == ds.target_class[keep]).mean()),
        "n": int(keep.sum()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for data and probe.json")
    ap.add_argument("--train", type=int, default=5000, help="training samples (random mix)")
    ap.add_argument("--test", type=int, default=1000, help="test samples per condition")
    ap.add_argument("--steps", type=int, default=400, help="training steps (batch 128)")
    ap.add_argument("--modalities", default=",".join(MODALITIES))
    ap.add_argument("--sim", default="./qoiflow simulate", help="simulate command")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("QOIFLOW_THREADS", "1")))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    sim = shlex.split(args.sim)
    mods = [m for m in args.modalities.split(",") if m]
    print("simulating ...", flush=True)
    train = load_dataset(simulate(sim, args.out / "train.avro", args.train, 71, "random"))
    clean = load_dataset(simulate(sim, args.out / "clean.avro", args.test, 72, "clean"))
    centre = train.target_xy.mean(axis=0)
    common = np.bincount(train.target_class, minlength=len(CLASS_NAMES)).argmax()
    baseline = {
        "loc_cm": float(np.linalg.norm(clean.target_xy - centre, axis=1).mean()),
        "acc": float((clean.target_class == common).mean()),
    }
    print(
        f"baselines (clean test): mean position {baseline['loc_cm']:.1f} cm, "
        f"most common class {baseline['acc']:.3f}",
        flush=True,
    )
    results = {"baseline": baseline, "args": {k: str(v) for k, v in vars(args).items()}}
    print(f"{'modality':8} {'clean cm':>9} {'clean acc':>9} {'heavy cm':>9} {'heavy acc':>9}  fit")
    for k, m in enumerate(mods):
        heavy = load_dataset(
            simulate(sim, args.out / f"heavy_{m}.avro", args.test, 73 + k, heavy_spec(m))
        )
        net, norm, fit = train_probe(m, train, args.steps, args.seed)
        c = score(net, norm, m, clean)
        h = score(net, norm, m, heavy)
        results[m] = {"clean": c, "heavy": h, "heavy_spec": heavy_spec(m), "fit": fit}
        print(
            f"{m:8} {c['loc_cm']:9.1f} {c['acc']:9.3f} {h['loc_cm']:9.1f} {h['acc']:9.3f}  "
            f"{fit['steps']} steps ({fit['epochs']} epochs of {fit['train_samples']}), "
            f"{fit['seconds']:.0f} s",
            flush=True,
        )
    (args.out / "probe.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
