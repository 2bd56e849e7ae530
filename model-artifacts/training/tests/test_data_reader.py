"""The Python reader decodes a Java-written dataset file to exactly the values Java wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qoiflow_train.data import (
    CLASS_NAMES,
    CORRUPTION_TYPES,
    MODALITIES,
    NATIVE_DTYPES,
    SHAPES,
    STATUSES,
    load_dataset,
    read_samples,
)

FIXTURES = Path(__file__).parent / "fixtures"
AVRO = FIXTURES / "java_samples.avro"
EXPECTED = json.loads((FIXTURES / "java_samples.json").read_text())


def test_read_samples_matches_java_values():
    samples = list(read_samples(AVRO))
    assert len(samples) == len(EXPECTED)
    for s, e in zip(samples, EXPECTED, strict=True):
        assert s["seed"] == e["seed"] and s["index"] == e["index"]
        assert set(s["frames"]) == set(e["frames"])
        for m, arr in s["frames"].items():
            fe = e["frames"][m]
            assert arr.shape == SHAPES[m] == tuple(fe["shape"])
            assert arr.dtype == NATIVE_DTYPES[m]
            flat = arr.reshape(-1).astype(np.float64)
            # float32 values are compared exactly (JSON keeps the float's shortest repr).
            assert [float(np.float32(x)) for x in flat[:4]] == [
                float(np.float32(x)) for x in fe["first"]
            ]
            assert float(np.float32(flat[-1])) == float(np.float32(fe["last"]))
            assert int(np.argmax(arr.reshape(-1))) == fe["argmax"]
            assert flat.sum() == pytest.approx(fe["sum"], rel=1e-9, abs=1e-6)
        t, te = s["truth"], e["truth"]
        assert t["target"]["classIndex"] == te["classIndex"]
        assert CLASS_NAMES[te["classIndex"]] == te["className"] == t["target"]["className"]
        assert t["target"]["xCm"] == te["xCm"] and t["target"]["yCm"] == te["yCm"]
        assert t["target"]["status"] == te["status"]
        assert len(t["objects"]) == te["objects"]
        got = [[c["modality"].lower(), c["type"], c["level"]] for c in t["corruptions"]]
        assert got == te["corruptions"]
        assert [[q["questionType"], q["question"], q["answer"]] for q in t["questions"]] == te[
            "questions"
        ]


def test_load_dataset_arrays_and_cache(tmp_path):
    path = tmp_path / "s.avro"
    shutil.copy(AVRO, path)
    ds = load_dataset(path)
    n = len(EXPECTED)
    assert len(ds) == n
    assert (tmp_path / "s.avro.npz").exists()
    for m in MODALITIES:
        assert ds.frames[m].shape == (n, *SHAPES[m]) and ds.frames[m].dtype == np.float32
    assert ds.present.shape == (n, 5) and ds.present.dtype == bool
    for i, e in enumerate(EXPECTED):
        for j, m in enumerate(MODALITIES):
            assert ds.present[i, j] == (m in e["frames"])
            if m in e["frames"]:
                assert float(ds.frames[m][i].astype(np.float64).sum()) == pytest.approx(
                    e["frames"][m]["sum"], rel=1e-9, abs=1e-6
                )
            else:
                assert not ds.frames[m][i].any()
                assert ds.corruption_type[i, j] == CORRUPTION_TYPES.index("off")
                assert ds.corruption_level[i, j] == 1.0
        te = e["truth"]
        assert ds.target_class[i] == te["classIndex"]
        assert ds.target_status[i] == STATUSES.index(te["status"])
        assert np.allclose(ds.target_xy[i], [te["xCm"], te["yCm"]])
        labelled = {c[0] for c in te["corruptions"]}
        for j, m in enumerate(MODALITIES):
            if m not in labelled:
                assert ds.corruption_type[i, j] == 0 and ds.corruption_level[i, j] == 0
        assert ds.questions[i] == [tuple(q) for q in te["questions"]]
    assert ds.seeds.tolist() == [e["seed"] for e in EXPECTED]
    # A second load comes from the cache and is identical.
    again = load_dataset(path)
    for m in MODALITIES:
        assert np.array_equal(again.frames[m], ds.frames[m])
    assert again.questions == ds.questions
    limited = load_dataset(path, limit=2)
    assert len(limited) == 2 and np.array_equal(limited.frames["lidar"], ds.frames["lidar"][:2])
