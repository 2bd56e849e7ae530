"""Reader of the simulator's dataset files (Avro container files of LabelledSample).

Frames are decoded exactly as SensorFrame.avsc documents: a dense row-major little-endian tensor
of `shape` with elements of `dtype`. See docs/SIMULATOR.md for what each modality encodes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import fastavro
import numpy as np

MODALITIES = ("camera", "depth", "mmwave", "lidar", "audio")
SHAPES = {
    "camera": (3, 48, 48),
    "depth": (1, 48, 48),
    "mmwave": (2, 32, 32),
    "lidar": (2, 16, 128),
    "audio": (2, 32, 48),
}
NATIVE_DTYPES = {
    "camera": np.dtype("<u1"),
    "depth": np.dtype("<u2"),
    "mmwave": np.dtype("<f4"),
    "lidar": np.dtype("<f4"),
    "audio": np.dtype("<f4"),
}
# Same order as io.qoiflow.simulator.ObjectClass (the classIndex of the ground truth).
CLASS_NAMES = ("car", "van", "truck", "bus", "motorcycle", "bicycle", "pedestrian", "robot")
STATUSES = ("moving", "stopped", "parked")
CORRUPTION_TYPES = (
    "clean",
    "noise",
    "lowlight",
    "blur",
    "occlusion",
    "missing",
    "interference",
    "dropout",
    "clipping",
    "off",
)
QUESTION_TYPES = ("exist", "count", "object", "status", "comparison")
ANSWERS = ("yes", "no", *(str(i) for i in range(11)), *CLASS_NAMES, *STATUSES)

_DTYPES = {"UINT8": "<u1", "UINT16": "<u2", "FLOAT16": "<f2", "FLOAT32": "<f4"}
# SensorFrame.dtype of each modality on the wire, lower case: the manifest's `inputs`, which the
# job's frame contract enforces. The graphs themselves take float32 raw values.
WIRE_DTYPES = {
    m: next(name for name, code in _DTYPES.items() if np.dtype(code) == d).lower()
    for m, d in NATIVE_DTYPES.items()
}
_CACHE_VERSION = 1


def decode_frame(frame: dict) -> np.ndarray:
    """Payload of one SensorFrame record as an array of its native dtype and shape."""
    shape = tuple(int(d) for d in frame["shape"])
    arr = np.frombuffer(frame["payload"], dtype=_DTYPES[frame["dtype"]])
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"payload of {arr.size} elements does not match shape {shape}")
    return arr.reshape(shape)


def read_samples(path: str | os.PathLike) -> Iterator[dict]:
    """Yields {"seed", "index", "frames": {modality: ndarray}, "truth": GroundTruth dict}."""
    with open(path, "rb") as fh:
        for rec in fastavro.reader(fh):
            frames = {}
            for fr in rec["frames"]:
                frames[fr["modality"].lower()] = decode_frame(fr)
            yield {
                "seed": rec["seed"],
                "index": rec["index"],
                "frames": frames,
                "truth": rec["truth"],
            }


@dataclass
class Dataset:
    """Arrays of a dataset file. Frames are float32 raw values, zeros where a modality is off."""

    frames: dict[str, np.ndarray]
    present: np.ndarray  # (N, 5) bool
    target_xy: np.ndarray  # (N, 2) float32, cm
    target_class: np.ndarray  # (N,) int64
    target_status: np.ndarray  # (N,) int64
    corruption_level: np.ndarray  # (N, 5) float32, 0 clean .. 1, 1.0 for off
    corruption_type: np.ndarray  # (N, 5) int64, index into CORRUPTION_TYPES
    questions: list[list[tuple[str, str, str]]] = field(default_factory=list)
    seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return int(self.present.shape[0])


def _cache_path(path: Path, limit: int | None) -> Path:
    suffix = "" if limit is None else f".limit{limit}"
    return path.with_name(path.name + suffix + ".npz")


def _cache_key(path: Path, limit: int | None) -> str:
    st = path.stat()
    return json.dumps(
        {"v": _CACHE_VERSION, "mtime_ns": st.st_mtime_ns, "size": st.st_size, "limit": limit}
    )


def _count(path: Path, limit: int | None) -> int:
    n = 0
    with open(path, "rb") as fh:
        for block in fastavro.block_reader(fh):
            n += block.num_records
            if limit is not None and n >= limit:
                return limit
    return n


def load_dataset(path: str | os.PathLike, limit: int | None = None, cache: bool = True) -> Dataset:
    """Loads a dataset file into arrays; caches them in `<file>.npz` keyed by mtime and size."""
    path = Path(path)
    cpath = _cache_path(path, limit)
    key = _cache_key(path, limit)
    if cache and cpath.exists():
        try:
            with np.load(cpath, allow_pickle=False) as z:
                if str(z["cache_key"]) == key:
                    return _from_npz(z)
        except (OSError, KeyError, ValueError):
            pass
    ds = _decode(path, limit)
    if cache:
        tmp = cpath.with_name(cpath.name + f".tmp{os.getpid()}.npz")
        try:
            _save_npz(tmp, ds, key)
            os.replace(tmp, cpath)
        except OSError:
            tmp.unlink(missing_ok=True)
    return ds


def _decode(path: Path, limit: int | None) -> Dataset:
    n = _count(path, limit)
    frames = {m: np.zeros((n, *SHAPES[m]), np.float32) for m in MODALITIES}
    present = np.zeros((n, len(MODALITIES)), bool)
    target_xy = np.zeros((n, 2), np.float32)
    target_class = np.zeros(n, np.int64)
    target_status = np.zeros(n, np.int64)
    level = np.zeros((n, len(MODALITIES)), np.float32)
    ctype = np.zeros((n, len(MODALITIES)), np.int64)
    seeds = np.zeros(n, np.int64)
    index = np.zeros(n, np.int64)
    questions: list[list[tuple[str, str, str]]] = []
    for i, s in enumerate(read_samples(path)):
        if i >= n:
            break
        for m, arr in s["frames"].items():
            j = MODALITIES.index(m)
            frames[m][i] = arr
            present[i, j] = True
        t = s["truth"]
        target_xy[i] = (t["target"]["xCm"], t["target"]["yCm"])
        target_class[i] = t["target"]["classIndex"]
        target_status[i] = STATUSES.index(t["target"]["status"])
        for c in t["corruptions"]:
            j = MODALITIES.index(c["modality"].lower())
            lv = 1.0 if c["type"] == "off" else float(c["level"])
            # Several corruptions on one modality: keep the strongest (off beats everything).
            if c["type"] == "off" or (CORRUPTION_TYPES[ctype[i, j]] != "off" and lv >= level[i, j]):
                level[i, j] = lv
                ctype[i, j] = CORRUPTION_TYPES.index(c["type"])
        questions.append([(q["questionType"], q["question"], q["answer"]) for q in t["questions"]])
        seeds[i] = s["seed"]
        index[i] = s["index"]
    return Dataset(
        frames=frames,
        present=present,
        target_xy=target_xy,
        target_class=target_class,
        target_status=target_status,
        corruption_level=level,
        corruption_type=ctype,
        questions=questions,
        seeds=seeds,
        index=index,
    )


def _save_npz(path: Path, ds: Dataset, key: str) -> None:
    arrays = {f"frames_{m}": ds.frames[m] for m in MODALITIES}
    np.savez(
        path,
        cache_key=np.array(key),
        present=ds.present,
        target_xy=ds.target_xy,
        target_class=ds.target_class,
        target_status=ds.target_status,
        corruption_level=ds.corruption_level,
        corruption_type=ds.corruption_type,
        questions=np.array(json.dumps(ds.questions)),
        seeds=ds.seeds,
        index=ds.index,
        **arrays,
    )


def _from_npz(z) -> Dataset:
    return Dataset(
        frames={m: z[f"frames_{m}"] for m in MODALITIES},
        present=z["present"],
        target_xy=z["target_xy"],
        target_class=z["target_class"],
        target_status=z["target_status"],
        corruption_level=z["corruption_level"],
        corruption_type=z["corruption_type"],
        questions=[[tuple(q) for q in qs] for qs in json.loads(str(z["questions"]))],
        seeds=z["seeds"],
        index=z["index"],
    )
