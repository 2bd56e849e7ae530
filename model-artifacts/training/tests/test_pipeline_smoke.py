"""CI smoke: the whole recipe on a tiny config (a few steps), export, parity, evaluation."""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from qoiflow_train.export import verify_artifact
from qoiflow_train.pipeline import run
from qoiflow_train.recipe import PRESETS, Preset
from qoiflow_train.train import to_arrays

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("tiny")
    preset = Preset(**{**PRESETS["tiny"].__dict__})
    manifest, results = run(
        preset, root / "run", True, root / "art", root / "docs" / "R.md", log=lambda s: None
    )
    return root, manifest, results


def test_manifest_follows_contract(tiny_run):
    root, mf, _ = tiny_run
    folder = root / "art" / mf["name"]
    for k in (
        "name",
        "format_version",
        "created",
        "modalities",
        "classes",
        "inputs",
        "layers_per_modality",
        "total_layers",
        "layer_layout",
        "dim",
        "tokens",
        "budgets",
        "graphs",
        "policies",
        "flops",
        "data",
        "metrics",
        "fixtures",
    ):
        assert k in mf, k
    lm, total = mf["layers_per_modality"], mf["total_layers"]
    assert total == 5 * lm and len(mf["layer_layout"]) == total
    assert mf["budgets"]["100"] == total
    for m in mf["modalities"]:
        assert f"embed.{m}" in mf["graphs"]
        for i in range(lm):
            assert f"layer.{m}.{i}" in mf["graphs"]
    assert set(mf["policies"]) == {"naive", "full", "static", "admn", "ae", "universal"}
    st = mf["policies"]["static"]
    assert st["budget_input"] is False and set(st["allocations_by_budget"]) == {
        "25",
        "33",
        "50",
        "67",
    }
    for p, counts in st["allocations_by_budget"].items():
        assert list(counts) == list(mf["modalities"])
        assert sum(counts.values()) == mf["budgets"][p] and min(counts.values()) >= 1
    assert set(mf["policies"]["admn"]["graphs_by_budget"]) == {"25", "33", "50", "67", "100"}
    assert mf["policies"]["universal"]["budget_input"] is True
    for key, g in mf["graphs"].items():
        model = onnx.load(str(folder / g["file"]))
        assert model.ir_version <= 10 and 17 <= model.opset_import[0].version <= 20
        for io in g["inputs"] + g["outputs"]:
            assert io["shape"][0] == "B" and io["dtype"] == "float32", key
        assert g["flops"] > 0
    assert mf["graphs"]["controller.universal"]["inputs"][-1]["name"] == "budget"
    assert mf["flops"]["full_model"] > max(mf["flops"]["controller"].values())
    assert (root / "docs" / "R.md").exists() and (root / "docs" / "admn_results.png").exists()


def test_exported_artifact_passes_parity(tiny_run):
    root, mf, _ = tiny_run
    report = verify_artifact(root / "art" / mf["name"])
    assert report["cases"] == 30  # 6 policies x 5 budgets
    assert max(report["graphs"].values()) <= 1e-4 * 1000  # abs; criterion checked inside


def test_verify_detects_a_tampered_graph(tiny_run, tmp_path):
    import shutil

    root, mf, _ = tiny_run
    dst = tmp_path / "copy"
    shutil.copytree(root / "art" / mf["name"], dst)
    g = dst / mf["graphs"]["layer.depth.1"]["file"]
    model = onnx.load(str(g))
    init = model.graph.initializer[0]
    arr = onnx.numpy_helper.to_array(init).copy() + 0.5
    init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))
    onnx.save(model, str(g))
    with pytest.raises(AssertionError):
        verify_artifact(dst)
    # with a matching hash, parity against PyTorch must still catch it
    m = json.loads((dst / "manifest.json").read_text())
    import hashlib

    m["graphs"]["layer.depth.1"]["sha256"] = hashlib.sha256(g.read_bytes()).hexdigest()
    (dst / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(AssertionError):
        verify_artifact(dst)


def test_results_table_is_complete(tiny_run):
    _, _, results = tiny_run
    t = results["table"]
    assert list(t) == ["mix", *PRESETS["tiny"].eval_mix]
    for group, rows in t.items():
        assert {"naive", "static", "admn", "ae", "universal", "full"} <= set(rows), group
        for pol, row in rows.items():
            if pol == "condition oracle":
                assert set(row) == {"25", "33", "50"}
                continue
            assert set(row) == {"25", "33", "50", "67", "100"}
            for p, cell in row.items():
                assert np.isfinite(cell["err_cm"]) and 0 <= cell["acc"] <= 1
                if pol in ("naive", "static", "admn", "ae", "universal") and p != "100":
                    # exactly the budget (one modality off: fewer present layers possible)
                    assert sum(cell["layers"]) <= {"25": 5, "33": 7, "50": 10, "67": 13}[p] + 1e-6
    assert len(results["targets"]) >= 6 and all("met" in x for x in results["targets"])
    h = results["headroom"]["25"]
    assert h["per_sample_oracle_cm"] <= h["condition_oracle_cm"] + 1e-4
    assert h["per_sample_oracle_cm"] <= h["s_star_cm"] + 1e-4


@pytest.mark.skipif(not list(FIXTURES.glob("*.avro")), reason="no simulator fixture file")
def test_simulator_fixture_trains_a_few_steps():
    from qoiflow_train import data
    from qoiflow_train.model import ADMN, ADMNConfig
    from qoiflow_train.train import apply_stats, frame_stats, train_stage1

    ds = data.load_dataset(sorted(FIXTURES.glob("*.avro"))[0], cache=False)
    arr = to_arrays(ds)
    cfg = ADMNConfig(
        num_classes=len(data.CLASS_NAMES),
        dim=16,
        heads=2,
        fusion_dim=16,
        fusion_depth=1,
        layers_per_modality=2,
    )
    model = ADMN(cfg)
    apply_stats(model, None, frame_stats(arr))
    r = train_stage1(model, arr, 3, batch=4)
    assert np.isfinite(r["final_loss"])
