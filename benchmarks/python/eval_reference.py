"""The Python evaluator's numbers on a `qoiflow simulate` file, in the JSON shape of
`qoiflow eval --json`, optionally compared with a Java `qoiflow eval --json` output.

Uses the training package's own code: `qoiflow_train.data.load_dataset` (reader),
`qoiflow_train.train.to_arrays`, `qoiflow_train.evaluate.run_policy` (the evaluator), on the
PyTorch weights saved next to the ONNX graphs (`torch_state.pt`).

    python eval_reference.py --model DIR --data F.avro [--compare java.json] [--tolerance 0.01]
Exit 1 when a compared number differs by more than the tolerance (relative; for class accuracy
and mean layers, relative to max(value, 1/samples) so a single sample is not below resolution).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def load(model_dir: Path):
    from qoiflow_train.model import ADMN, ADMNConfig, Controller

    manifest = json.loads((model_dir / "manifest.json").read_text())
    ts = manifest["torch_state"]
    state = torch.load(model_dir / ts["file"], map_location="cpu", weights_only=True)
    cfg = ADMNConfig.from_dict(manifest["config"])
    model = ADMN(cfg)
    model.load_state_dict(state["model"])
    model.eval()
    ctrls: dict = {}
    for key, flags in ts["controllers"].items():
        kw = {"budget_input": flags["budget_input"], "qoi_from_logits": flags["qoi_from_logits"]}
        if "budget_token" in flags:
            kw["budget_token"] = flags["budget_token"]
        c = Controller(cfg, **kw)
        c.load_state_dict(state[key])
        c.eval()
        parts = key.split(".")  # controller.<variant>[.b<pct>]
        if len(parts) == 3:
            ctrls.setdefault(parts[1], {})[int(parts[2][1:])] = c
        else:
            ctrls[parts[1]] = c
    return manifest, model, ctrls


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--budgets", default="25,33,50,67,100")
    ap.add_argument("--policies", default="naive,admn,ae,universal,full")
    ap.add_argument("--compare", default=None)
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--training", default=None)
    a = ap.parse_args(argv)
    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(Path(a.training) if a.training else repo / "model-artifacts" / "training"))
    from qoiflow_train.data import load_dataset
    from qoiflow_train.evaluate import run_policy
    from qoiflow_train.model import MODALITIES
    from qoiflow_train.train import to_arrays

    torch.set_num_threads(1)
    manifest, model, ctrls = load(Path(a.model))
    arr = to_arrays(load_dataset(a.data, limit=a.samples, cache=False))
    n = len(arr)
    rows = []
    for policy in a.policies.split(","):
        if policy not in ("naive", "full") and policy not in ctrls:
            continue
        for pct in (int(p) for p in a.budgets.split(",")):
            r = run_policy(model, ctrls, arr, policy, pct)
            rows.append(
                {
                    "policy": policy,
                    "budget_pct": pct,
                    "budget_layers": manifest["budgets"][str(pct)],
                    "loc_error_cm": r["err_cm"],
                    "class_acc": r["acc"],
                    "mean_layers": dict(zip(MODALITIES, r["layers"], strict=True)),
                }
            )
    out = {"model": manifest["name"], "samples": n, "data": a.data, "rows": rows}
    if not a.compare:
        print(json.dumps(out, indent=1))
        return 0
    java = json.loads(Path(a.compare).read_text())
    jrows = {(r["policy"], r["budget_pct"]): r for r in java["rows"]}
    worst, fails, compared = 0.0, [], 0
    floor = 1.0 / n
    for r in rows:
        j = jrows.get((r["policy"], r["budget_pct"]))
        if j is None:
            continue
        pairs = [("loc_error_cm", r["loc_error_cm"], j["loc_error_cm"], abs(r["loc_error_cm"]))]
        pairs.append(("class_acc", r["class_acc"], j["class_acc"], max(r["class_acc"], floor)))
        for m in MODALITIES:
            pairs.append((f"layers.{m}", r["mean_layers"][m], j["mean_layers"][m],
                          max(r["mean_layers"][m], floor)))
        for name, p, q, scale in pairs:
            rel = abs(p - q) / scale if scale > 0 else abs(p - q)
            compared += 1
            worst = max(worst, rel)
            if rel > a.tolerance:
                fails.append(f"{r['policy']}@{r['budget_pct']} {name}: python {p:.6g} java {q:.6g}")
    print(json.dumps({"samples": n, "compared": compared, "worst_relative_diff": worst,
                      "tolerance": a.tolerance, "failures": fails}, indent=1))
    return 1 if fails or compared == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
