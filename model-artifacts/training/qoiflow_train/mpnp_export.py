"""Exports a trained mPnP-LLM (torch_state.pt + tokenizer.json from mpnp_train) to ONNX, writes
parity fixtures for Java and manifest.json with sha256 of every file, and verifies the result.

Graphs (batch and sequence length dynamic):
  prefix_<modality>.onnx: frame (B,C,H,W) -> prefix_k, prefix_v (B,L,H,P,hd), gates applied;
  lm.onnx: ids (B,T) int64, prefix_k, prefix_v (B,L,H,P,hd), connected (B,L), lora_on (B,L)
           -> logits (B,T,V). Rows of a batch must have the same length (no padding input).

  python -m qoiflow_train.mpnp_export --model ../mpnp-sim-v1 --fixtures-from DEV.avro
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
from tokenizers import Tokenizer
from torch.utils.flop_counter import FlopCounterMode

from qoiflow_train.data import SHAPES, WIRE_DTYPES
from qoiflow_train.export import export_onnx
from qoiflow_train.model import load_weights
from qoiflow_train.mpnp import (
    EOS,
    MAX_NEW_TOKENS,
    PROMPT,
    QA_MODALITIES,
    ModalityPrefix,
    MpnpConfig,
    MpnpLM,
    answer_flops,
    block_masks,
    greedy_answer,
    load_qa,
    prompt_text,
)
from qoiflow_train.mpnp_train import USES_LORA

INPUT_SHAPES = {m: SHAPES[m] for m in QA_MODALITIES}
# Policy defaults (Java reads them from the manifest): the camera is used while the ADMN
# controller's camera QoI is at least this; N = ceil(budget fraction * L), at least 1.
CAMERA_QOI_THRESHOLD = 0.5
DEFAULT_BUDGET_FRACTION = 1.0  # the job's initial budget (BudgetLevels.defaults)


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def load_model(folder: Path):
    st = load_weights(folder / "torch_state.pt")
    cfg = MpnpConfig(**st["config"])
    lm = MpnpLM(cfg)
    lm.load_state_dict(st["lm"])
    lm.eval()
    prefixes = {}
    for m in QA_MODALITIES:
        p = ModalityPrefix(cfg, m)
        p.load_state_dict(st[f"prefix_{m}"])
        p.eval()
        prefixes[m] = p
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return cfg, lm, prefixes, tok


class _Lm(nn.Module):
    def __init__(self, lm: MpnpLM):
        super().__init__()
        self.lm = lm

    def forward(self, ids, prefix_k, prefix_v, connected, lora_on):
        return self.lm(ids, prefix_k, prefix_v, connected, lora_on)


def export_graphs(folder: Path, cfg, lm, prefixes) -> dict:
    gdir = folder / "graphs"
    gdir.mkdir(parents=True, exist_ok=True)
    graphs = {}
    for m, pre in prefixes.items():
        x = torch.rand(2, *INPUT_SHAPES[m]) * (255.0 if m == "camera" else 10.0)
        path = gdir / f"prefix_{m}.onnx"
        dyn = {"frame": {0: "B"}, "prefix_k": {0: "B"}, "prefix_v": {0: "B"}}
        export_onnx(pre, [x], path, ["frame"], ["prefix_k", "prefix_v"], dyn)
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            pre(x[:1])
        graphs[f"prefix_{m}"] = {"file": f"graphs/{path.name}", "flops": int(fc.get_total_flops())}
    b, t = 2, 7
    ids = torch.randint(0, cfg.vocab_size, (b, t))
    shape = (b, cfg.n_layer, cfg.n_head, cfg.prefix_tokens, cfg.head_dim)
    c, lo = block_masks(cfg, 3, b, True)
    args = [ids, torch.randn(shape), torch.randn(shape), c, lo]
    names = ["ids", "prefix_k", "prefix_v", "connected", "lora_on"]
    dyn = {n: {0: "B"} for n in names}
    dyn["ids"] = {0: "B", 1: "T"}
    dyn["logits"] = {0: "B", 1: "T"}
    path = gdir / "lm.onnx"
    export_onnx(_Lm(lm), args, path, names, ["logits"], dyn)
    graphs["lm"] = {"file": "graphs/lm.onnx"}
    return graphs


def _session(path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_answer(lm_sess, tok, question, pk, pv, connected, lora_on):
    """Greedy decoding with the ONNX LM (the reference for Java): text, ids, runs, first logits."""
    eos = tok.token_to_id(EOS)
    ids = tok.encode(prompt_text(question)).ids
    out, runs, first = [], [], None
    for _ in range(MAX_NEW_TOKENS):
        x = np.array([ids + out], np.int64)
        runs.append(x.shape[1])
        feeds = {
            "ids": x,
            "prefix_k": pk,
            "prefix_v": pv,
            "connected": connected,
            "lora_on": lora_on,
        }
        logits = lm_sess.run(["logits"], feeds)[0][0, -1]
        if first is None:
            first = logits
        nxt = int(np.argmax(logits))
        if nxt == eos:
            break
        out.append(nxt)
    return " ".join(tok.id_to_token(i) for i in out), out, runs, first


def write_fixtures(folder: Path, cfg, graphs: dict, tok, dev_file: Path, samples: int) -> dict:
    """Per fixture sample: both frames, and per question the Python (ORT) decode at two Ns per
    modality, with ids, runs, FLOPs and the first step's logits for numeric parity."""
    data = load_qa(dev_file, samples)
    lm_sess = _session(folder / "graphs" / "lm.onnx")
    pre_sess = {m: _session(folder / "graphs" / f"prefix_{m}.onnx") for m in QA_MODALITIES}
    cases = []
    for s in range(samples):
        frames = {"camera": data.camera[s], "lidar": data.lidar[s]}
        qs = [(qt, q, a) for i, qt, q, a in data.qa if i == s]
        for m in QA_MODALITIES:
            pk, pv = pre_sess[m].run(["prefix_k", "prefix_v"], {"frame": frames[m][None]})
            for n in (2, cfg.n_layer):
                c, lo = block_masks(cfg, n, 1, USES_LORA[m])
                for qt, q, a in qs:
                    text, out, runs, first = ort_answer(
                        lm_sess, tok, q, pk, pv, c.numpy(), lo.numpy()
                    )
                    pf = graphs[f"prefix_{m}"]["flops"]
                    cases.append(
                        {
                            "sample": s,
                            "modality": m,
                            "n": n,
                            "question_type": qt,
                            "question": q,
                            "truth": a,
                            "prompt_ids": tok.encode(prompt_text(q)).ids,
                            "answer": text,
                            "answer_ids": out,
                            "runs": runs,
                            "flops": answer_flops(cfg, runs, n, USES_LORA[m], pf),
                            "first_logits": [float(v) for v in first],
                        }
                    )
    fx = {
        "frames": [
            {
                "camera": data.camera[s].reshape(-1).tolist(),
                "lidar": data.lidar[s].reshape(-1).tolist(),
            }
            for s in range(samples)
        ],
        "tokenizer_cases": [
            {"text": t, "ids": tok.encode(t).ids}
            for t in [
                "question: How many cars are there ? </s> answer:",
                "is the  zebra\tmoving ?",
                "yes",
            ]
        ],
        "cases": cases,
    }
    path = folder / "fixtures" / "qa_fixtures.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(fx, separators=(",", ":")))
    return {"file": "fixtures/qa_fixtures.json"}


def write_manifest(folder: Path, cfg, graphs: dict, fixtures: dict | None) -> dict:
    report = json.loads((folder / "training_report.json").read_text())
    man = {
        "name": folder.name,
        "kind": "mpnp-qa",
        "format_version": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": cfg.to_dict(),
        "modalities": list(QA_MODALITIES),
        "inputs": {
            m: {"shape": list(INPUT_SHAPES[m]), "dtype": WIRE_DTYPES[m]} for m in QA_MODALITIES
        },
        "tokenizer": {"file": "tokenizer.json", "model": "WordLevel", "lowercase": True},
        "prompt": PROMPT,
        "eos": EOS,
        "max_new_tokens": MAX_NEW_TOKENS,
        "lora": {m: USES_LORA[m] for m in QA_MODALITIES},
        "graphs": graphs,
        "policy": {
            "camera_qoi_threshold": CAMERA_QOI_THRESHOLD,
            "default_budget_fraction": DEFAULT_BUDGET_FRACTION,
            "n_rule": "N = max(1, ceil(budget_fraction * n_layer))",
        },
        "train_flops_by_n": {str(k): v for k, v in report["train_flops_by_n"].items()},
        "train_step_flops_by_n": {str(k): v for k, v in report["train_step_flops_by_n"].items()},
        "training": {
            "samples": report["samples"],
            "timings_s": report["timings_s"],
            "stage2_steps": report["stage2_steps"],
        },
    }
    if fixtures is not None:
        man["fixtures"] = fixtures
    for entry in [man["tokenizer"], *man["graphs"].values(), *([fixtures] if fixtures else [])]:
        entry["sha256"] = sha256(folder / entry["file"])
    (folder / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")
    return man


def verify(folder: Path, cases: int | None = None) -> dict:
    """sha256 of every listed file, ORT vs PyTorch per graph (several B, T, N), and the ORT
    greedy decode reproducing the committed fixtures. Returns counts and the worst diffs."""
    man = json.loads((folder / "manifest.json").read_text())
    for entry in [man["tokenizer"], *man["graphs"].values(), man["fixtures"]]:
        got = sha256(folder / entry["file"])
        if got != entry["sha256"]:
            raise AssertionError(f"sha256 mismatch for {entry['file']}")
    cfg, lm, prefixes, tok = load_model(folder)
    g = torch.Generator().manual_seed(0)
    worst = {}
    for m, pre in prefixes.items():
        sess = _session(folder / man["graphs"][f"prefix_{m}"]["file"])
        for b in (1, 3):
            x = torch.rand(b, *INPUT_SHAPES[m], generator=g) * (255.0 if m == "camera" else 10.0)
            with torch.no_grad():
                tk, tv = pre(x)
            ok, ov = sess.run(["prefix_k", "prefix_v"], {"frame": x.numpy()})
            d = max(float(np.abs(ok - tk.numpy()).max()), float(np.abs(ov - tv.numpy()).max()))
            worst[f"prefix_{m}"] = max(worst.get(f"prefix_{m}", 0.0), d)
    sess = _session(folder / man["graphs"]["lm"]["file"])
    shape_l = (cfg.n_layer, cfg.n_head, cfg.prefix_tokens, cfg.head_dim)
    for b, t, n, lora in [
        (1, 1, 0, False),
        (1, 9, 2, False),
        (2, 14, 5, True),
        (3, 20, cfg.n_layer, True),
    ]:
        ids = torch.randint(0, cfg.vocab_size, (b, t), generator=g)
        pk = torch.randn(b, *shape_l, generator=g)
        pv = torch.randn(b, *shape_l, generator=g)
        c, lo = block_masks(cfg, n, b, lora)
        with torch.no_grad():
            ref = lm(ids, pk, pv, c, lo).numpy()
        feeds = {"ids": ids.numpy(), "prefix_k": pk.numpy(), "prefix_v": pv.numpy()}
        got = sess.run(["logits"], {**feeds, "connected": c.numpy(), "lora_on": lo.numpy()})[0]
        worst["lm"] = max(worst.get("lm", 0.0), float(np.abs(got - ref).max()))
    fx = json.loads((folder / man["fixtures"]["file"]).read_text())
    pre_sess = {m: _session(folder / man["graphs"][f"prefix_{m}"]["file"]) for m in QA_MODALITIES}
    checked = 0
    for case in fx["cases"][:cases]:
        m = case["modality"]
        frame = np.array(fx["frames"][case["sample"]][m], np.float32).reshape(1, *INPUT_SHAPES[m])
        pk, pv = pre_sess[m].run(["prefix_k", "prefix_v"], {"frame": frame})
        c, lo = block_masks(cfg, case["n"], 1, USES_LORA[m])
        text, out, runs, first = ort_answer(
            sess, tok, case["question"], pk, pv, c.numpy(), lo.numpy()
        )
        ptext, pout, pruns = greedy_answer(
            lm, tok, case["question"], torch.from_numpy(pk), torch.from_numpy(pv), c, lo
        )
        if (text, out, runs) != (case["answer"], case["answer_ids"], case["runs"]) or pout != out:
            raise AssertionError(
                f"fixture case differs: {case['question']} {text!r} {ptext!r} {case['answer']!r}"
            )
        worst["fixture_logits"] = max(
            worst.get("fixture_logits", 0.0),
            float(np.abs(first - np.array(case["first_logits"])).max()),
        )
        checked += 1
    return {"worst": worst, "fixture_cases": checked}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--fixtures-from", required=True)
    ap.add_argument("--fixture-samples", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    folder = Path(args.model)
    cfg, lm, prefixes, tok = load_model(folder)
    graphs = export_graphs(folder, cfg, lm, prefixes)
    fixtures = write_fixtures(
        folder, cfg, graphs, tok, Path(args.fixtures_from), args.fixture_samples
    )
    write_manifest(folder, cfg, graphs, fixtures)
    print(json.dumps(verify(folder), indent=1))


if __name__ == "__main__":
    main()
