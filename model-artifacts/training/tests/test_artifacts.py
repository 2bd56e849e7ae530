"""Parity of the COMMITTED model artifacts: sha256, onnx.checker, ORT vs PyTorch (rebuilt from the
committed torch_state.pt) per graph, and the ORT chain vs the committed fixture outputs."""

import json
from pathlib import Path

import pytest
import torch

from qoiflow_train.export import verify_artifact

ROOT = Path(__file__).resolve().parents[2]
# ADMN models only; the mPnP QA model (kind "mpnp-qa") has its own checks in test_mpnp.py.
FOLDERS = sorted(
    p.parent
    for p in ROOT.glob("*/manifest.json")
    if json.loads(p.read_text()).get("kind", "admn") == "admn"
)


def test_there_are_committed_artifacts():
    assert FOLDERS, "no model-artifacts/<name>/manifest.json"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_committed_artifact_parity(folder):
    torch.set_num_threads(2)
    report = verify_artifact(folder)
    assert report["cases"] >= 25
    assert len(report["graphs"]) >= 5 + 5 + 1
