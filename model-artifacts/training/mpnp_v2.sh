#!/usr/bin/env bash
# One command for the QA model mpnp-sim-v2 (docs/QA.md): simulator data, training with per-stage
# wall-clock budgets (niced, one thread), ONNX export with the parity gate (ORT vs PyTorch and the
# fixtures), then eval-qa by day and by night. Run from the repository root:
#   bash model-artifacts/training/mpnp_v2.sh [OUT_DIR]      (default model-artifacts/mpnp-sim-v2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(realpath -m "${1:-$root/model-artifacts/mpnp-sim-v2}")"
D="$root/.data/qa"
mkdir -p "$D"
cd "$root"
sim() { [ -f "$D/$1.avro" ] || nice -n 10 ./qoiflow simulate --samples "$2" --seed "$3" --corruption "$4" --out "$D/$1.avro"; }
sim day_train 5000 1101 clean
sim night_train 659 1102 camera:lowlight:0.7-1.0
sim day_dev 300 1201 clean
sim night_dev 300 1201 camera:lowlight:0.7-1.0
cd model-artifacts/training
[ -x .venv/bin/python ] || bash setup_venv.sh
PYTHONPATH=. nice -n 10 .venv/bin/python -m qoiflow_train.mpnp_train \
  --day "$D/day_train.avro" --night "$D/night_train.avro" \
  --day-dev "$D/day_dev.avro" --night-dev "$D/night_dev.avro" --out "$out" \
  --lm-text scenes --aligner gather --n-embd 64 --lm-batch 32 --lm-steps 1500 \
  --enc-epochs 6 --stage1-epochs 4 --stage2-epochs 8 --budget-s 650 200 300 900 350 \
  --eval-ns 8 --dev-limit 60
PYTHONPATH=. nice -n 10 .venv/bin/python -m qoiflow_train.mpnp_export --model "$out" \
  --fixtures-from "$D/night_dev.avro"
cd "$root"
for c in clean camera:lowlight:0.7-1.0; do
  nice -n 10 ./qoiflow eval-qa --model "$out" --samples 300 --seed 7 --corruption "$c" --ns 1,3,8 --json
done
