"""Evaluation plots from `qoiflow eval --json` output (shape as EvalCommand.toJson writes it)."""

import json

import pytest

from qoiflow_train import plots

MODALITIES = ["camera", "depth", "mmwave", "lidar", "audio"]


def eval_json(corruption, offset):
    rows = []
    for policy in ["naive", "admn", "universal", "full"]:
        for pct, layers in [(25, 10), (33, 13), (50, 20), (100, 40)]:
            rows.append(
                {
                    "policy": policy,
                    "budget_pct": pct,
                    "budget_layers": layers,
                    "loc_error_cm": 100.0 / pct + offset,
                    "class_acc": pct / 100.0,
                    "max_layers_run": layers,
                    "mean_layers": {m: layers / 5 for m in MODALITIES},
                    "flops_ratio": pct / 100.0,
                    "ms_per_sample": 1.0,
                }
            )
    return {"model": "m", "samples": 10, "seed": 7, "corruption": corruption, "rows": rows}


def test_plots_from_eval_json(tmp_path):
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    for i, (name, spec) in enumerate(list(plots.REGIMES.items())[:3]):
        (eval_dir / f"{plots.slug(name)}.json").write_text(json.dumps(eval_json(spec, i)))
    plots.main(["--docs", str(tmp_path), "--replot"])
    for png in ["eval_budget.png", "eval_layers.png"]:
        data = (tmp_path / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 10_000


def test_series_sorted_by_budget():
    x, y = plots.series(eval_json("clean", 0), "admn", "loc_error_cm")
    assert x == [25, 33, 50, 100]
    assert y == sorted(y, reverse=True)


def test_replot_without_json_says_so(tmp_path):
    with pytest.raises(SystemExit, match="no eval JSON"):
        plots.main(["--docs", str(tmp_path), "--replot"])
