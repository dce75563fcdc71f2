#!/usr/bin/env bash
# Creates .venv-tensorboard/ (TensorBoard, from the local pip indexes, offline) for
# test/tensorboard.test.ts, which reads the event files tf.node.summaryFileWriter writes with
# TensorBoard's own reader (test/tensorboard_reader.py). Idempotent; under a minute.
#   scripts/setup-tensorboard-venv.sh
#   TENSORBOARD_VENV=/path scripts/setup-tensorboard-venv.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TENSORBOARD_VENV:-$root/.venv-tensorboard}"
export PIP_INDEX_URL="${PIP_INDEX_URL:-file:///opt/pypi/simple}"
export PIP_EXTRA_INDEX_URL="${PIP_EXTRA_INDEX_URL:-file:///opt/pypi-more/simple}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
# Keep the venv out of git whatever the repository's .gitignore says.
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
if ! "$venv/bin/python" -c "import tensorboard" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet tensorboard
fi
"$venv/bin/python" -c "import tensorboard; print('tensorboard', tensorboard.__version__)"
