#!/usr/bin/env bash
# One-shot setup on Debian/Ubuntu: system packages, npm dependencies, cuDNN/cuBLAS headers
# (for the cuda backend), the native build, TypeScript, and the tfjs-node test reference
# (offline). Idempotent. Run as root (or with sudo available) from the project root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# pip: only the local indexes (the public one may be unreachable and retried for minutes).
if [ -d /opt/pypi/simple ]; then
  export PIP_INDEX_URL=${PIP_INDEX_URL:-file:///opt/pypi/simple}
  [ -d /opt/pypi-more/simple ] && export PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL:-file:///opt/pypi-more/simple}
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

step() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }

step "apt packages"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends libdnnl-dev dataset-fashion-mnist cmake g++ make \
  python3-pip python3-venv patchelf python3-sklearn libjpeg62-turbo-dev libpng-dev libgif-dev >/dev/null

step "npm ci (scripts off: tfjs-node's own installer would try to download)"
npm ci --ignore-scripts --no-audit --no-fund

step "cuDNN / cuBLAS headers"
bash scripts/fetch-cuda-deps.sh || echo "cuDNN headers unavailable: building without the cuda backend"
bash scripts/fetch-cudnn-loader-test.sh || echo "cuDNN shim unavailable: test/cuda-loader.test.ts will fail in CI"

step "native build + TypeScript"
npm run build

step "tfjs-node (test reference), offline"
bash scripts/install-tfjs-node.sh

step "Keras reference venv (parity tests against Keras 3)"
bash scripts/setup-keras-venv.sh

step "TensorBoard reader venv (test/tensorboard.test.ts reads tf.node's event files with it)"
bash scripts/setup-tensorboard-venv.sh

step "done"
