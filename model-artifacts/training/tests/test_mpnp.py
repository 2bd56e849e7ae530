"""mPnP-LLM: the committed QA model's ONNX graphs vs PyTorch and its fixtures, the FLOPs formula
vs torch's counter, and the prefix/LoRA masking semantics the Java side relies on."""

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from qoiflow_train.mpnp import (
    ModalityPrefix,
    MpnpConfig,
    MpnpLM,
    block_masks,
    describe_scene,
    lm_run_flops,
    no_prefix,
)
from qoiflow_train.mpnp_export import verify

ARTIFACTS = Path(__file__).resolve().parents[2]
SMALL = MpnpConfig(vocab_size=20, n_layer=4, n_head=2, n_embd=16, prefix_tokens=3)


def _randomised(cfg):
    torch.manual_seed(0)
    lm = MpnpLM(cfg).eval()
    for p in lm.lora_parameters():  # LoRA B starts at 0: make it matter
        torch.nn.init.normal_(p, std=0.1)
    return lm


def _prefix(cfg, b):
    shape = (b, cfg.n_layer, cfg.n_head, cfg.prefix_tokens, cfg.head_dim)
    return torch.randn(shape), torch.randn(shape)


@pytest.mark.parametrize("name", ["mpnp-sim-v1", "mpnp-sim-v2"])
def test_committed_model_onnx_matches_pytorch_and_fixtures(name):
    torch.set_num_threads(1)
    model = ARTIFACTS / name
    report = verify(model)
    assert report["fixture_cases"] >= 20
    for graph, diff in report["worst"].items():
        assert diff < 1e-4, (graph, diff)
    man = json.loads((model / "manifest.json").read_text())
    assert man["kind"] == "mpnp-qa"
    assert set(man["train_flops_by_n"]) == {str(n) for n in range(1, man["config"]["n_layer"] + 1)}


def test_flops_formula_equals_torch_flop_counter_when_every_block_is_connected():
    lm = _randomised(SMALL)
    ids = torch.randint(0, SMALL.vocab_size, (1, 9))
    pk, pv = _prefix(SMALL, 1)
    c, lo = block_masks(SMALL, SMALL.n_layer, 1, True)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        lm(ids, pk, pv, c, lo)
    assert fc.get_total_flops() == lm_run_flops(SMALL, 9, SMALL.n_layer, True)


def test_disconnected_blocks_are_exactly_the_plain_lm():
    lm = _randomised(SMALL)
    ids = torch.randint(0, SMALL.vocab_size, (2, 7))
    pk, pv = _prefix(SMALL, 2)
    zk, zv, zc, zl = no_prefix(SMALL, 2)
    with torch.no_grad():
        plain = lm(ids, zk, zv, zc, zl)
        masked = lm(ids, pk, pv, zc, zl)
        c, lo = block_masks(SMALL, 2, 2, True)
        fed = lm(ids, pk, pv, c, lo)
    assert torch.equal(plain, masked)
    assert (fed - plain).abs().max() > 1e-3


def test_backward_stops_below_the_connected_blocks():
    lm = _randomised(SMALL)
    for p in lm.lora_parameters():
        p.requires_grad_(True)
    ids = torch.randint(0, SMALL.vocab_size, (2, 5))
    pk, pv = _prefix(SMALL, 2)
    n = 2
    c, lo = block_masks(SMALL, n, 2, True)
    lm(ids, pk, pv, c, lo, grad_from=SMALL.n_layer - n).sum().backward()
    for j, blk in enumerate(lm.blocks):
        g = blk.attn.lora_k.b.weight.grad
        if j < SMALL.n_layer - n:
            assert g is None or torch.count_nonzero(g) == 0
        else:
            assert g is not None and torch.count_nonzero(g) > 0


def _gather_probe(aligner: str):
    """Prefix of two token sets that differ only in encoder token 0: which prefix slots change."""
    cfg = MpnpConfig(vocab_size=20, n_layer=4, n_head=2, n_embd=16, prefix_tokens=5, enc_dim=8)
    cfg.aligner = aligner
    torch.manual_seed(0)
    pre = ModalityPrefix(cfg, "camera").eval()
    tok = torch.randn(1, cfg.prefix_tokens, cfg.enc_dim)
    moved = tok.clone()
    moved[0, 0] += torch.randn(cfg.enc_dim)  # not a constant: LayerNorm would remove it
    with torch.no_grad():
        k0, _ = pre.from_tokens(tok)
        k1, _ = pre.from_tokens(moved)
    assert k0.shape == (1, cfg.n_layer, cfg.n_head, cfg.prefix_tokens, cfg.head_dim)
    return (k1 - k0).abs().amax(dim=(0, 1, 2, 4)) > 1e-6  # (P,) slot changed


def test_gather_aligner_spreads_one_token_over_every_prefix_slot_and_the_token_one_does_not():
    assert _gather_probe("gather").all()
    changed = _gather_probe("token")
    assert changed[0] and not changed[1:].any()


def test_scene_description_lists_objects_nearest_first():
    objects = [
        {"className": "truck", "status": "parked", "xCm": 0.0, "yCm": 400.0},
        {"className": "car", "status": "moving", "xCm": 0.0, "yCm": -500.0},
    ]
    assert describe_scene(objects) == "scene: moving car , parked truck . </s>"
