#!/usr/bin/env bash
# Creates (or refreshes) the training venv next to this file from the pinned requirements.
# pip's default index may be unreachable; --retries 0 keeps an offline-mirror install to ~30 s.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --disable-pip-version-check --retries 0 -q -r requirements.txt
echo "$want" > "$stamp"
