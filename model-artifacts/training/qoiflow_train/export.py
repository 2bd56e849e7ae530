"""ONNX export per docs/MODEL_FORMAT.md: graphs, FLOPs counted from the graphs, manifest.json,
parity checks (onnx.checker + ORT vs PyTorch) and parity fixtures for the Java engine."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from .data import WIRE_DTYPES
from .model import (
    ADMN,
    MODALITIES,
    ADMNConfig,
    Controller,
    budget_layers,
    full_mask,
    load_weights,
    naive_mask,
    select_topk,
    static_mask,
)

OPSET = 17
FORMAT_VERSION = 1
BUDGET_PCTS = (25, 33, 50, 67, 100)
PARITY_TOL = 1e-4


# ----------------------------------------------------------------------------------------------
# graph wrappers (named inputs / outputs of the contract)
# ----------------------------------------------------------------------------------------------
class _Fusion(nn.Module):
    def __init__(self, fusion):
        super().__init__()
        self.f = fusion

    def forward(self, cls, present):
        return self.f(cls, present)


class _Ctrl(nn.Module):
    def __init__(self, ctrl: Controller):
        super().__init__()
        self.c = ctrl

    def forward(self, camera, depth, mmwave, lidar, audio, present, budget=None):
        frames = dict(zip(MODALITIES, (camera, depth, mmwave, lidar, audio), strict=True))
        return self.c(frames, present, budget)


def export_onnx(module, args, path: Path, in_names, out_names, dyn=None):
    """Legacy-exporter ONNX at OPSET, IR <= 10 (ORT 1.30 rejects newer), checked. `dyn`: the
    dynamic axes; by default axis 0 ("B") of every input and output."""
    module.eval()
    if dyn is None:
        dyn = {n: {0: "B"} for n in list(in_names) + list(out_names)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            tuple(args),
            str(path),
            input_names=list(in_names),
            output_names=list(out_names),
            dynamic_axes=dyn,
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load(str(path))
    if model.ir_version > 10:
        model.ir_version = 10
        onnx.save(model, str(path))
    onnx.checker.check_model(model, full_check=True)


# ----------------------------------------------------------------------------------------------
# FLOPs: 2*MACs of MatMul/Gemm/Conv, shapes measured by running the graph at batch 1 in ORT
# ----------------------------------------------------------------------------------------------
def count_flops(path: Path, feeds: dict) -> int:
    model = onnx.load(str(path))
    inits = {i.name: list(i.dims) for i in model.graph.initializer}
    nodes = [n for n in model.graph.node if n.op_type in ("MatMul", "Gemm", "Conv")]
    want = []
    for n in nodes:
        for v in list(n.input[:2]) + [n.output[0]]:
            if v not in inits and v not in want:
                want.append(v)
    existing = {o.name for o in model.graph.output}
    for v in want:
        if v not in existing:
            model.graph.output.append(onnx.ValueInfoProto(name=v))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    one = {k: v[:1] for k, v in feeds.items()}
    names = [o.name for o in sess.get_outputs()]
    shapes = {n: list(a.shape) for n, a in zip(names, sess.run(names, one), strict=True)}
    shapes.update(inits)
    total = 0
    for n in nodes:
        a, b, y = shapes[n.input[0]], shapes[n.input[1]], shapes[n.output[0]]
        if n.op_type == "MatMul":
            total += 2 * int(np.prod(y)) * a[-1]
        elif n.op_type == "Gemm":
            ta = next((at.i for at in n.attribute if at.name == "transA"), 0)
            k = a[0] if ta else a[1]
            total += 2 * int(np.prod(y)) * k
        else:
            total += 2 * int(np.prod(y)) * int(np.prod(b[1:]))
    return int(total)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _io(sess_list):
    def one(x):
        shape = [d if isinstance(d, int) else "B" for d in x.shape]
        return {"name": x.name, "shape": shape, "dtype": "float32"}

    return [one(x) for x in sess_list]


def _session(path: Path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _maxdiff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) if np.size(a) else 0.0


def _excess(a, b) -> float:
    """The parity criterion: max |a-b| / max(1, max|b| of that sample). Outputs in cm / cm^2
    (fusion mean, cov: values up to ~1e3, off-diagonals computed from products of such values)
    cannot match to 1e-4 absolute in float32, so the tolerance is 1e-4 absolute for tensors whose
    values are <= 1 and 1e-4 relative to the sample's largest value above."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not a.size:
        return 0.0
    a2, b2 = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    scale = np.maximum(1.0, np.abs(b2).max(axis=1, keepdims=True))
    return float(np.max(np.abs(a2 - b2) / scale))


# ----------------------------------------------------------------------------------------------
# ORT reference engine (what the Java engine does, for the end-to-end parity check)
# ----------------------------------------------------------------------------------------------
class OrtEngine:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.manifest = json.loads((self.folder / "manifest.json").read_text())
        self.sessions = {}

    def sess(self, key):
        if key not in self.sessions:
            self.sessions[key] = _session(self.folder / self.manifest["graphs"][key]["file"])
        return self.sessions[key]

    def controller_outputs(self, policy, pct, frames, present):
        pol = self.manifest["policies"][policy]
        key = pol["graphs_by_budget"][str(pct)] if "graphs_by_budget" in pol else pol["graph"]
        feeds = {m: frames[m] for m in MODALITIES}
        feeds["present"] = present
        if pol["budget_input"]:
            feeds["budget"] = np.full((present.shape[0], 1), pct / 100.0, np.float32)
        return self.sess(key).run(["layer_logits", "qoi"], feeds)

    def select(self, policy, pct, frames, present):
        mf = self.manifest
        lm, L = mf["layers_per_modality"], mf["budgets"][str(pct)]
        pt = torch.as_tensor(present)
        if policy == "full" or (policy == "static" and pct == 100):
            return full_mask(pt, lm).numpy(), None
        if policy == "naive":
            return naive_mask(pt, L, lm).numpy(), None
        if policy == "static":
            return static_mask(
                pt, mf["policies"]["static"]["allocations_by_budget"][str(pct)], lm
            ).numpy(), None
        logits, qoi = self.controller_outputs(policy, pct, frames, present)
        return select_topk(torch.as_tensor(logits), pt, L).numpy(), (logits, qoi)

    def run(self, frames, present, mask):
        mf = self.manifest
        lm, dim = mf["layers_per_modality"], mf["dim"]
        b = present.shape[0]
        cls = np.zeros((b, len(MODALITIES), dim), np.float32)
        for i, m in enumerate(MODALITIES):
            x = self.sess(f"embed.{m}").run(["tokens"], {"frames": frames[m]})[0]
            for r in range(b):
                if present[r, i] <= 0:
                    continue
                xr = x[r : r + 1]
                for li in range(lm):
                    if mask[r, i * lm + li]:
                        xr = self.sess(f"layer.{m}.{li}").run(["y"], {"x": xr})[0]
                cls[r, i] = xr[0, 0]
        return self.sess("fusion").run(
            ["mean", "cov", "class_probs"], {"cls": cls, "present": present}
        )


# ----------------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------------
def export_model(
    out_dir: Path,
    name: str,
    model: ADMN,
    controllers: dict,
    fixture: dict,
    data_info: dict,
    metrics: dict | None = None,
    save_torch_state: bool = True,
    log=print,
    static: dict | None = None,
) -> dict:
    """controllers: {"admn": {25: ctrl, 33: ctrl, ...}, "ae": ctrl, "universal": ctrl}.
    static: the `static` policy, {pct: {modality: layer count}} (S*, evenly spread layers).
    fixture: {"frames": {m: (S,C,H,W) np.float32}, "present": (S,M) np.float32} raw inputs."""
    cfg: ADMNConfig = model.cfg
    out_dir = Path(out_dir)
    (out_dir / "graphs").mkdir(parents=True, exist_ok=True)
    model.eval()
    lm, total = cfg.layers_per_modality, cfg.total_layers
    frames = {m: np.ascontiguousarray(fixture["frames"][m], np.float32) for m in MODALITIES}
    present = np.ascontiguousarray(fixture["present"], np.float32)
    ft = {m: torch.as_tensor(v) for m, v in frames.items()}
    pt = torch.as_tensor(present)
    graphs, parity = {}, {}

    def register(key, rel, feeds, torch_out, out_names):
        path = out_dir / rel
        sess = _session(path)
        got = sess.run(out_names, feeds)
        # batch S and batch 1 (dynamic batch axis)
        got1 = sess.run(out_names, {k: v[:1] for k, v in feeds.items()})
        pairs = list(zip(got, torch_out, strict=True))
        pairs += [(g, t[:1]) for g, t in zip(got1, torch_out, strict=True)]
        diff = max(_maxdiff(g, t) for g, t in pairs)
        crit = max(_excess(g, t) for g, t in pairs)
        if crit > PARITY_TOL:
            raise AssertionError(f"{key}: ORT vs PyTorch diff {diff:.2e} (criterion {crit:.2e})")
        parity[key] = diff
        graphs[key] = {
            "file": rel,
            "sha256": _sha256(path),
            "inputs": _io(sess.get_inputs()),
            "outputs": _io(sess.get_outputs()),
            "flops": count_flops(path, feeds),
        }

    with torch.no_grad():
        tokens = {}
        for m in MODALITIES:
            emb = model.backbones[m].embed
            rel = f"graphs/embed.{m}.onnx"
            export_onnx(emb, [ft[m]], out_dir / rel, ["frames"], ["tokens"])
            tokens[m] = emb(ft[m])
            register(f"embed.{m}", rel, {"frames": frames[m]}, [tokens[m].numpy()], ["tokens"])
        for m in MODALITIES:
            x = tokens[m]
            for li, blk in enumerate(model.backbones[m].layers):
                rel = f"graphs/layer.{m}.{li}.onnx"
                export_onnx(blk, [x], out_dir / rel, ["x"], ["y"])
                y = blk(x)
                register(f"layer.{m}.{li}", rel, {"x": x.numpy()}, [y.numpy()], ["y"])
                x = y
        # fusion fed with the full-model CLS tokens
        mean, cov, probs = model.forward_selected(ft, pt, full_mask(pt, lm))
        cls_in = []
        for i, m in enumerate(MODALITIES):
            x = tokens[m]
            for blk in model.backbones[m].layers:
                x = blk(x)
            cls_in.append(x[:, 0] * pt[:, i : i + 1])
        cls_in = torch.stack(cls_in, 1)
        fus = _Fusion(model.fusion)
        rel = "graphs/fusion.onnx"
        export_onnx(
            fus, [cls_in, pt], out_dir / rel, ["cls", "present"], ["mean", "cov", "class_probs"]
        )
        fo = [t.numpy() for t in fus(cls_in, pt)]
        register(
            "fusion",
            rel,
            {"cls": cls_in.numpy(), "present": present},
            fo,
            ["mean", "cov", "class_probs"],
        )

        ctrl_keys = {}
        flat = []
        for variant, c in controllers.items():
            if isinstance(c, dict):
                for pct, cc in c.items():
                    flat.append((f"controller.{variant}.b{pct}", cc))
            else:
                flat.append((f"controller.{variant}", c))
        for key, c in flat:
            c.eval()
            wrap = _Ctrl(c)
            args = [ft[m] for m in MODALITIES] + [pt]
            in_names = list(MODALITIES) + ["present"]
            feeds = {m: frames[m] for m in MODALITIES}
            feeds["present"] = present
            if c.budget_input:
                bud = torch.full((present.shape[0], 1), 0.33)
                args.append(bud)
                in_names.append("budget")
                feeds["budget"] = bud.numpy()
            rel = f"graphs/{key}.onnx"
            export_onnx(wrap, args, out_dir / rel, in_names, ["layer_logits", "qoi"])
            outs = [t.numpy() for t in wrap(*args)]
            register(key, rel, feeds, outs, ["layer_logits", "qoi"])
            ctrl_keys[key] = c

    budgets = {str(p): budget_layers(p, total) for p in BUDGET_PCTS}
    policies = {
        "naive": {"graph": None, "budget_input": False},
        "full": {"graph": None, "budget_input": False},
    }
    if static:
        policies["static"] = {
            "allocations_by_budget": {
                str(p): {m: int(static[p][m]) for m in MODALITIES} for p in sorted(static)
            },
            "budget_input": False,
        }
    ctrl_flops = {}
    for variant, c in controllers.items():
        if isinstance(c, dict):
            by = {str(p): f"controller.{variant}.b{p}" for p in sorted(c)}
            top = max(c)
            # 100%: every layer runs whatever the logits say; reuse the largest budget's graph
            for p in BUDGET_PCTS:
                by.setdefault(str(p), f"controller.{variant}.b{top}")
            policies[variant] = {"graphs_by_budget": by, "budget_input": False}
            ctrl_flops[variant] = max(graphs[k]["flops"] for k in set(by.values()))
        else:
            policies[variant] = {"graph": f"controller.{variant}", "budget_input": c.budget_input}
            ctrl_flops[variant] = graphs[f"controller.{variant}"]["flops"]
    embed_flops = {m: graphs[f"embed.{m}"]["flops"] for m in MODALITIES}
    layer_flops = {m: graphs[f"layer.{m}.0"]["flops"] for m in MODALITIES}
    full_flops = (
        sum(embed_flops.values())
        + sum(lm * v for v in layer_flops.values())
        + graphs["fusion"]["flops"]
    )

    manifest = {
        "name": name,
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "modalities": list(MODALITIES),
        "classes": list(data_info.get("class_names", [])),
        "inputs": {m: {"shape": list(cfg.shapes[m]), "dtype": WIRE_DTYPES[m]} for m in MODALITIES},
        "layers_per_modality": lm,
        "total_layers": total,
        "layer_layout": [
            {"index": i * lm + li, "modality": m, "layer": li, "graph": f"layer.{m}.{li}"}
            for i, m in enumerate(MODALITIES)
            for li in range(lm)
        ],
        "dim": cfg.dim,
        "tokens": {m: cfg.tokens(m) for m in MODALITIES},
        "budgets": budgets,
        "graphs": graphs,
        "policies": policies,
        "flops": {
            "full_model": full_flops,
            "embed": embed_flops,
            "layer": layer_flops,
            "fusion": graphs["fusion"]["flops"],
            "controller": ctrl_flops,
            "controller_fraction_of_full": {k: v / full_flops for k, v in ctrl_flops.items()},
        },
        "config": cfg.to_dict(),
        "data": data_info,
        "metrics": metrics or {},
        "parity_max_abs_diff": parity,
    }
    if save_torch_state:
        state = {"model": model.state_dict()}
        for key, c in ctrl_keys.items():
            state[key] = c.state_dict()
        torch.save(state, out_dir / "torch_state.pt")
        manifest["torch_state"] = {
            "file": "torch_state.pt",
            "sha256": _sha256(out_dir / "torch_state.pt"),
            "controllers": {
                k: {
                    "budget_input": c.budget_input,
                    "qoi_from_logits": c.qoi_from_logits,
                    "budget_token": c.budget_tok is not None,
                    "qoi_logit_bias": c.qoi_bias is not None,
                    "family_pcts": list(c.family_pcts) if c.family_pcts else None,
                }
                for k, c in ctrl_keys.items()
            },
        }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    manifest["fixtures"] = write_fixtures(out_dir, model, ctrl_keys, manifest, frames, present)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    log(f"exported {len(graphs)} graphs to {out_dir}, max parity diff {max(parity.values()):.2e}")
    return manifest


def _round(a, nd=7):
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def write_fixtures(out_dir, model, ctrl_keys, manifest, frames, present) -> dict:
    """Raw inputs (.npy float32, C order) and, per policy and budget, the PyTorch reference:
    controller outputs, chosen global layer indices and the heads' outputs. Also checks that the
    ORT chain (controller -> selection -> embed -> chosen layers -> fusion) reproduces them."""
    fx = Path(out_dir) / "fixtures"
    fx.mkdir(exist_ok=True)
    files = {}
    for m in MODALITIES:
        np.save(fx / f"input.{m}.npy", frames[m])
        files[m] = f"fixtures/input.{m}.npy"
    np.save(fx / "present.npy", present)
    files["present"] = "fixtures/present.npy"
    ft = {m: torch.as_tensor(v) for m, v in frames.items()}
    pt = torch.as_tensor(present)
    lm = manifest["layers_per_modality"]
    tok_files = {}
    with torch.no_grad():
        for m in MODALITIES:
            np.save(fx / f"tokens.{m}.npy", model.backbones[m].embed(ft[m]).numpy())
            tok_files[m] = f"fixtures/tokens.{m}.npy"
    cases = []
    engine = OrtEngine(out_dir)
    worst = 0.0
    for policy, pol in manifest["policies"].items():
        for pct in BUDGET_PCTS:
            L = manifest["budgets"][str(pct)]
            case = {"policy": policy, "budget_pct": pct, "budget_layers": L}
            with torch.no_grad():
                if policy == "full" or (policy == "static" and pct == 100):
                    mask = full_mask(pt, lm)
                elif policy == "naive":
                    mask = naive_mask(pt, L, lm)
                elif policy == "static":
                    mask = static_mask(pt, pol["allocations_by_budget"][str(pct)], lm)
                else:
                    key = (
                        pol["graphs_by_budget"][str(pct)]
                        if "graphs_by_budget" in pol
                        else pol["graph"]
                    )
                    c = ctrl_keys[key]
                    bud = torch.full((pt.shape[0], 1), pct / 100.0) if c.budget_input else None
                    logits, qoi = c(ft, pt, bud)
                    mask = select_topk(logits, pt, L)
                    case["controller_graph"] = key
                    case["layer_logits"] = _round(logits)
                    case["qoi"] = _round(qoi)
                    case["min_selection_margin"] = _selection_margin(logits, pt, mask, lm)
                mean, cov, probs = model.forward_selected(ft, pt, mask)
            case["selected"] = [np.flatnonzero(r).tolist() for r in mask.numpy()]
            case["mean"], case["cov"], case["class_probs"] = (
                _round(mean),
                _round(cov),
                _round(probs),
            )
            # ORT chain parity
            omask, _ = engine.select(policy, pct, frames, present)
            if not np.array_equal(omask, mask.numpy()):
                # only a near-tie (float32 noise between runtimes) may flip a choice
                if (case.get("min_selection_margin") or 1.0) > 1e-4:
                    raise AssertionError(f"ORT selection differs for {policy} {pct}")
                case["near_tie"] = True
                omask = mask.numpy()
            om, oc, op = engine.run(frames, present, omask)
            d = max(_maxdiff(om, mean), _maxdiff(oc, cov), _maxdiff(op, probs))
            crit = max(_excess(om, mean), _excess(oc, cov), _excess(op, probs))
            worst = max(worst, d)
            if crit > PARITY_TOL:
                raise AssertionError(f"ORT chain vs PyTorch {policy} {pct}: {d:.2e}")
            cases.append(case)
    (fx / "expected.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    return {
        "samples": int(present.shape[0]),
        "inputs": files,
        "tokens": tok_files,
        "expected": "fixtures/expected.json",
        "tolerance": PARITY_TOL,
        "tolerance_rule": "per sample: max|got - expected| <= tolerance * max(1, max|expected|)",
        "chain_max_abs_diff": worst,
        "note": "npy: little-endian float32, C order, shape (S,...). expected.json: per policy "
        "and budget the controller outputs, chosen global layer indices per sample (ascending) "
        "and fusion outputs; layer indices follow layer_layout.",
    }


def _selection_margin(logits, present, mask, lm) -> float:
    """Smallest gap between a chosen and an unchosen candidate logit (tie-robustness)."""
    from .model import forced_and_candidates

    _, cand = forced_and_candidates(present, lm)
    gaps = []
    for r in range(logits.shape[0]):
        chosen = logits[r][cand[r] & mask[r]]
        other = logits[r][cand[r] & ~mask[r]]
        if chosen.numel() and other.numel():
            gaps.append(float(chosen.min() - other.max()))
    return min(gaps) if gaps else None


# ----------------------------------------------------------------------------------------------
# verification of a committed artifact folder (CI)
# ----------------------------------------------------------------------------------------------
def load_torch(folder: Path):
    """Rebuilds the PyTorch modules from `torch_state.pt` -> (model, {controller graph key: c})."""
    folder = Path(folder)
    mf = json.loads((folder / "manifest.json").read_text())
    cfg = ADMNConfig.from_dict(mf["config"])
    state = load_weights(folder / mf["torch_state"]["file"])
    model = ADMN(cfg)
    model.load_state_dict(state["model"])
    model.eval()
    ctrls = {}
    for key, flags in mf["torch_state"]["controllers"].items():
        flags = dict(flags)
        if flags.get("family_pcts"):
            flags["family_pcts"] = tuple(flags["family_pcts"])
        c = Controller(cfg, **flags)
        c.load_state_dict(state[key])
        ctrls[key] = c.eval()
    return model, ctrls


def verify_artifact(folder: Path) -> dict:
    """sha256 of every file, onnx.checker, ORT vs PyTorch (rebuilt from torch_state.pt) per
    graph on the fixture inputs, and the ORT chain vs the committed expected outputs. Raises on
    failure."""
    folder = Path(folder)
    mf = json.loads((folder / "manifest.json").read_text())
    report = {"graphs": {}, "cases": 0}
    for key, g in mf["graphs"].items():
        path = folder / g["file"]
        if _sha256(path) != g["sha256"]:
            raise AssertionError(f"{key}: sha256 mismatch")
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    if (
        mf.get("torch_state")
        and _sha256(folder / mf["torch_state"]["file"]) != mf["torch_state"]["sha256"]
    ):
        raise AssertionError("torch_state.pt: sha256 mismatch")
    fx = mf["fixtures"]
    frames = {m: np.load(folder / fx["inputs"][m]) for m in MODALITIES}
    present = np.load(folder / fx["inputs"]["present"])
    ft = {m: torch.as_tensor(v) for m, v in frames.items()}
    pt = torch.as_tensor(present)
    engine = OrtEngine(folder)
    model, ctrls = load_torch(folder)

    def check(key, feeds, ref):
        got = engine.sess(key).run(None, feeds)
        crit = max(_excess(a, b.numpy()) for a, b in zip(got, ref, strict=True))
        if crit > PARITY_TOL:
            raise AssertionError(f"{key}: ORT vs PyTorch criterion {crit:.2e}")
        report["graphs"][key] = max(_maxdiff(a, b.numpy()) for a, b in zip(got, ref, strict=True))

    with torch.no_grad():
        cls = []
        for i, m in enumerate(MODALITIES):
            bb = model.backbones[m]
            x = bb.embed(ft[m])
            check(f"embed.{m}", {"frames": frames[m]}, [x])
            for li, blk in enumerate(bb.layers):
                y = blk(x)
                check(f"layer.{m}.{li}", {"x": x.numpy()}, [y])
                x = y
            cls.append(x[:, 0] * pt[:, i : i + 1])
        cls = torch.stack(cls, 1)
        check("fusion", {"cls": cls.numpy(), "present": present}, list(model.fusion(cls, pt)))
        for key, c in ctrls.items():
            feeds = {m: frames[m] for m in MODALITIES}
            feeds["present"] = present
            bud = None
            if c.budget_input:
                bud = torch.full((pt.shape[0], 1), 0.5)
                feeds["budget"] = bud.numpy()
            check(key, feeds, list(c(ft, pt, bud)))
    expected = json.loads((folder / fx["expected"]).read_text())
    for case in expected["cases"]:
        mask, outs = engine.select(case["policy"], case["budget_pct"], frames, present)
        sel = [np.flatnonzero(r).tolist() for r in mask]
        if sel != case["selected"]:
            raise AssertionError(f"{case['policy']} {case['budget_pct']}: selection differs")
        if outs is not None:
            for name, o in zip(("layer_logits", "qoi"), outs, strict=True):
                if _excess(o, case[name]) > PARITY_TOL:
                    raise AssertionError(f"{case['policy']} {case['budget_pct']}: {name} differs")
        got = engine.run(frames, present, mask)
        for name, o in zip(("mean", "cov", "class_probs"), got, strict=True):
            if _excess(o, case[name]) > PARITY_TOL:
                raise AssertionError(f"{case['policy']} {case['budget_pct']}: {name} differs")
        report["cases"] += 1
    return report


if __name__ == "__main__":
    import sys

    for d in sys.argv[1:]:
        r = verify_artifact(Path(d))
        print(
            d,
            "ok:",
            len(r["graphs"]),
            "graphs,",
            r["cases"],
            "fixture cases, max diff",
            f"{max(r['graphs'].values()):.2e}",
        )
