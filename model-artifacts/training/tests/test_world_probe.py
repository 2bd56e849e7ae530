"""The strength probe's pieces: heavy-corruption specs and the probe net on every wire shape."""

import numpy as np
import torch

from qoiflow_train.data import CLASS_NAMES, MODALITIES, SHAPES, Dataset
from qoiflow_train.world_probe import FRAME_TYPES, ProbeNet, heavy_spec, score, train_probe


def test_heavy_spec_draws_every_type_of_the_modality():
    assert heavy_spec("lidar") == "lidar:dropout:0.9-1.0|lidar:noise:0.9-1.0"
    for m in MODALITIES:
        alts = heavy_spec(m, 0.8).split("|")
        assert [a.split(":")[1] for a in alts] == list(FRAME_TYPES[m])
        assert all(a.startswith(f"{m}:") and a.endswith(":0.8-1.0") for a in alts)


def _toy(n: int, rng) -> Dataset:
    """The class is written into the camera's red level and the position into a bright pixel."""
    cls = rng.integers(0, len(CLASS_NAMES), n)
    xy = rng.uniform(-250, 250, (n, 2)).astype(np.float32)
    frames = {m: rng.normal(0, 1, (n, *SHAPES[m])).astype(np.float32) for m in MODALITIES}
    cam = frames["camera"]
    cam[:, 0] += cls[:, None, None] * 3.0
    rows = ((xy[:, 1] + 300) / 600 * 47).astype(int)
    cols = ((xy[:, 0] + 300) / 600 * 47).astype(int)
    cam[np.arange(n), 1, rows, cols] += 40.0
    return Dataset(
        frames=frames,
        present=np.ones((n, len(MODALITIES)), bool),
        target_xy=xy,
        target_class=cls,
        target_status=np.zeros(n, np.int64),
        corruption_level=np.zeros((n, len(MODALITIES)), np.float32),
        corruption_type=np.zeros((n, len(MODALITIES)), np.int64),
    )


def test_probe_net_takes_every_wire_shape():
    for m in MODALITIES:
        xy, cls = ProbeNet(SHAPES[m][0])(torch.zeros(2, *SHAPES[m]))
        assert xy.shape == (2, 2) and cls.shape == (2, len(CLASS_NAMES))


def test_probe_learns_a_signal_that_is_there():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    train, test = _toy(512, rng), _toy(256, rng)
    net, norm, fit = train_probe("camera", train, 60, seed=0)
    assert fit["steps"] == 60
    got = score(net, norm, "camera", test)
    centre = np.linalg.norm(test.target_xy - train.target_xy.mean(0), axis=1).mean()
    assert got["acc"] > 0.5
    assert got["loc_cm"] < 0.7 * centre
