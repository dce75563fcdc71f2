#!/usr/bin/env bash
# Creates .venv-keras/ (TensorFlow CPU + Keras 3 + h5py, from the local pip indexes, offline)
# for the Keras reference tests (test/applications-parity.test.ts runs
# scripts/keras_reference.py with it). Idempotent; about 1-2 minutes the first time.
#   scripts/setup-keras-venv.sh            # create or update .venv-keras
#   KERAS_VENV=/path scripts/setup-keras-venv.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${KERAS_VENV:-$root/.venv-keras}"
export PIP_INDEX_URL="${PIP_INDEX_URL:-file:///opt/pypi/simple}"
export PIP_EXTRA_INDEX_URL="${PIP_EXTRA_INDEX_URL:-file:///opt/pypi-more/simple}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
# Keep the venv out of git whatever the repository's .gitignore says.
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"
if "$venv/bin/python" -c "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('keras', 'tensorflow', 'h5py')) else 1)" 2>/dev/null; then
  echo "keras venv ready: $venv"
else
  "$venv/bin/python" -m pip install --quiet "tensorflow-cpu==2.21.*" "keras>=3" h5py numpy
fi
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "import keras, tensorflow as tf, h5py; print('keras', keras.__version__, 'tensorflow', tf.__version__, 'h5py', h5py.__version__)"
