#!/usr/bin/env bash
# Creates .venv-peers/ (the Python peers for bench/: TensorFlow CPU + Keras 3, PyTorch, numpy)
# from the local pip indexes, offline. Idempotent: an existing venv is reused and pip only
# installs what is missing. Prints the installed versions at the end.
#
#   scripts/setup-python-peers.sh            # create or update .venv-peers
#   PEERS_VENV=/path scripts/setup-python-peers.sh
#
# Note [torch wheel]: we want PyTorch's CPU build. On this machine it is a local wheel
# (torch-X+cpu in pip's find-links, /opt/wheels); the indexes also carry the CUDA build,
# which would pull ~3 GB of nvidia-* wheels. When a +cpu wheel is found we pin its version;
# TORCH_SPEC overrides the choice (e.g. TORCH_SPEC=torch on a GPU machine).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PEERS_VENV:-$root/.venv-peers}"
python="${PYTHON:-python3}"

export PIP_INDEX_URL="${PIP_INDEX_URL:-file:///opt/pypi/simple}"
export PIP_EXTRA_INDEX_URL="${PIP_EXTRA_INDEX_URL:-file:///opt/pypi-more/simple}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi
# Keep the venv out of git whatever the repository's .gitignore says.
[ -f "$venv/.gitignore" ] || echo '*' > "$venv/.gitignore"

if [ -z "${TORCH_SPEC:-}" ]; then
  TORCH_SPEC=torch
  for d in ${PIP_FIND_LINKS:-} /opt/wheels; do
    w="$(ls "$d"/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$w" ]; then
      v="$(basename "$w" | cut -d- -f2)"
      TORCH_SPEC="torch==$v"
      break
    fi
  done
fi
pkgs=("tensorflow-cpu==2.21.*" "keras>=3" "$TORCH_SPEC" "numpy")
echo "peers wanted in $venv: ${pkgs[*]}"
if "$venv/bin/python" - "${pkgs[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    from packaging.requirements import Requirement
except ImportError:
    sys.exit(1)
for spec in sys.argv[1:]:
    r = Requirement(spec)
    try:
        v = version(r.name)
    except PackageNotFoundError:
        sys.exit(1)
    if v not in r.specifier:
        sys.exit(1)
PY
then
  echo "peers already installed in $venv"
else
  "$venv/bin/python" -m pip install --quiet "${pkgs[@]}"
fi

"$venv/bin/python" - <<'PY'
import os, importlib
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
for name in ("numpy", "tensorflow", "keras", "torch"):
    try:
        m = importlib.import_module(name)
        print(f"{name:11s} {m.__version__}")
    except Exception as e:  # report, don't hide
        print(f"{name:11s} FAILED to import: {e}")
        raise SystemExit(1)
import torch
print(f"{'torch cpu':11s} threads={torch.get_num_threads()} mkldnn={torch.backends.mkldnn.is_available()} cuda={torch.cuda.is_available()}")
PY
