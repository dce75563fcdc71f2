#!/usr/bin/env bash
# Unpacks cuDNN 9's shim (libcudnn.so.9) and the sub-libraries the loader requires before
# first use (Note [cuDNN sub-libraries] in native/cuda/loader.cc: graph, ops, cnn,
# heuristic, engines_precompiled, engines_runtime_compiled, engines_tensor_ir) from the nvidia-cudnn-cu13 wheel
# into .cache/cudnn-loader-test, for test/cuda-loader.test.ts (the loader's version check and
# its refusal of an incomplete install, against the real library on machines without a GPU)
# and test/cuda-graph-describe.test.ts (cuDNN validating our graph-API convolution
# descriptions). Not in the .cache/nvidia layout the loader searches, so nothing picks it up
# by accident. Idempotent; ~810 MB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.cache/cudnn-loader-test"
libs=(libcudnn.so.9 libcudnn_graph.so.9 libcudnn_engines_runtime_compiled.so.9 libcudnn_ops.so.9
      libcudnn_cnn.so.9 libcudnn_heuristic.so.9 libcudnn_engines_precompiled.so.9
      libcudnn_engines_tensor_ir.so.9)
have=1
for l in "${libs[@]}"; do [[ -f "$dest/$l" ]] || have=0; done
(( have )) && exit 0
if [[ -z "${PIP_INDEX_URL:-}" && -d /opt/pypi/simple ]]; then
  export PIP_INDEX_URL=file:///opt/pypi/simple
  [[ -d /opt/pypi-more/simple ]] && export PIP_EXTRA_INDEX_URL=file:///opt/pypi-more/simple
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.dl.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" nvidia-cudnn-cu13 >&2
python3 - "$(ls "$tmp"/*.whl | head -n1)" "$dest" "${libs[@]}" <<'PY'
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for name in sys.argv[3:]:
    if os.path.exists(os.path.join(sys.argv[2], name)):
        continue
    with z.open("nvidia/cudnn/lib/" + name) as src, open(os.path.join(sys.argv[2], name), "wb") as dst:
        dst.write(src.read())
PY
echo "fetch-cudnn-loader-test: $dest" >&2
