"""mPnP-LLM: the committed QA model's ONNX graphs vs PyTorch and its fixtures, the FLOPs formula
vs torch's counter, and the prefix/LoRA masking semantics the Java side relies on."""

import json
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from qoiflow_train.mpnp import MpnpConfig, MpnpLM, block_masks, lm_run_flops, no_prefix
from qoiflow_train.mpnp_export import verify

MODEL = Path(__file__).resolve().parents[2] / "mpnp-sim-v1"
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


def test_committed_model_onnx_matches_pytorch_and_fixtures():
    torch.set_num_threads(1)
    report = verify(MODEL)
    assert report["fixture_cases"] >= 20
    for graph, diff in report["worst"].items():
        assert diff < 1e-4, (graph, diff)
    man = json.loads((MODEL / "manifest.json").read_text())
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
