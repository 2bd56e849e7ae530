"""Synthetic stand-in data with the simulator's tensor contract (shapes, raw value ranges, labels).

Only for unit tests and smoke runs when no simulator file is at hand; real training uses
`qoiflow simulate` files through `qoiflow_train.data`. A target at (x, y) cm of class k leaves a
class-coloured blob in the camera, a range blob in depth, a spot in mmWave, a bump in LiDAR and
class harmonics in audio; each modality gets Gaussian noise scaled by its corruption level.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .data import CORRUPTION_TYPES, MODALITIES, SHAPES

CLASS_NAMES = ("person", "robot", "cart", "drone")


def parse_spec(spec: str, n: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The simulator's SPEC grammar: `clean`, `random`, or `mod:type:lo-hi,...` / `mod:off`.
    Returns corruption levels (n,5), present (n,5) and type indices (n,5) (CORRUPTION_TYPES);
    every type is rendered as Gaussian noise here."""
    level = np.zeros((n, 5), np.float32)
    present = np.ones((n, 5), bool)
    ctype = np.zeros((n, 5), np.int64)
    if spec == "random":
        level = (rng.uniform(0, 1, size=(n, 5)) * (rng.uniform(size=(n, 5)) < 0.5)).astype(
            np.float32
        )
        ctype[level > 0] = CORRUPTION_TYPES.index("noise")
        return level, present, ctype
    if spec == "clean":
        return level, present, ctype
    for part in spec.split(","):
        bits = part.split(":")
        i = MODALITIES.index(bits[0])
        if bits[1] == "off":
            present[:, i] = False
            ctype[:, i] = CORRUPTION_TYPES.index("off")
            continue
        lo, hi = (float(v) for v in bits[2].split("-")) if len(bits) > 2 else (0.5, 1.0)
        level[:, i] = rng.uniform(lo, hi, size=n)
        ctype[:, i] = CORRUPTION_TYPES.index(bits[1])
    return level, present, ctype


def make_dataset(n: int, seed: int, spec: str = "random", num_classes: int = 4):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-280, 280, size=(n, 2)).astype(np.float32)
    cls = rng.integers(0, num_classes, size=n).astype(np.int64)
    level, present, ctype = parse_spec(spec, n, rng)
    u = (xy[:, 0] + 300) / 600  # 0..1
    v = (xy[:, 1] + 300) / 600
    frames = {}
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32) / 47.0
    colors = np.array([[220, 40, 40], [40, 220, 40], [40, 40, 220], [220, 220, 40]], np.float32)
    blob = np.exp(
        -((xx[None] - u[:, None, None]) ** 2 + (yy[None] - v[:, None, None]) ** 2) / 0.004
    )
    cam = 60 + blob[:, None] * (colors[cls % 4][:, :, None, None] - 60)
    frames["camera"] = cam
    dist = np.sqrt(xy[:, 0] ** 2 + (xy[:, 1] + 400) ** 2) * 10  # mm
    frames["depth"] = (6000 - blob * (6000 - dist[:, None, None]))[:, None]
    y2, x2 = np.mgrid[0:32, 0:32].astype(np.float32) / 31.0
    spot = np.exp(-((x2[None] - u[:, None, None]) ** 2 + (y2[None] - v[:, None, None]) ** 2) / 0.01)
    frames["mmwave"] = np.stack([spot, spot * (cls[:, None, None] / num_classes)], 1)
    col = np.arange(128, dtype=np.float32)[None] / 127.0
    bump = np.exp(-((col - u[:, None]) ** 2) / 0.002)  # (n,128)
    rng_img = np.repeat((bump * dist[:, None] / 1000.0)[:, None, :], 16, axis=1)
    frames["lidar"] = np.stack([rng_img, rng_img > 0.1], 1).astype(np.float32)
    f = np.arange(32, dtype=np.float32)[None, :, None]
    harm = np.exp(-((f - 4 * (cls[:, None, None] + 1)) ** 2) / 2.0)  # (n,32,1)
    aud = np.repeat(harm, 48, axis=2)
    frames["audio"] = np.stack([aud * u[:, None, None], aud * (1 - u[:, None, None])], 1)
    for i, m in enumerate(MODALITIES):
        x = frames[m].astype(np.float32)
        scale = {"camera": 120.0, "depth": 3000.0}.get(m, 1.0)
        x = x + rng.normal(size=x.shape).astype(np.float32) * scale * level[:, i, None, None, None]
        if m == "camera":
            x = np.clip(np.round(x), 0, 255)
        if m == "depth":
            x = np.clip(np.round(x), 0, 65535)
        assert x.shape[1:] == SHAPES[m]
        frames[m] = x.astype(np.float32) * present[:, i, None, None, None]
    return SimpleNamespace(
        frames=frames,
        present=present,
        target_xy=xy,
        target_class=cls,
        corruption_level=level,
        corruption_type=ctype,
        class_names=CLASS_NAMES,
    )
