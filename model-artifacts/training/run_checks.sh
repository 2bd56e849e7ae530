#!/usr/bin/env bash
# Lint, format check and tests of the training package (CI runs this through Maven).
set -euo pipefail
cd "$(dirname "$0")"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q tests
