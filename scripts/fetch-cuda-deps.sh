#!/usr/bin/env bash
# Fetches the cuDNN 9 and cuBLAS headers (from NVIDIA's Python wheels nvidia-cudnn-cu13 and
# nvidia-cublas) into .cache/nvidia so that cmake/cuda.cmake can build the cuda backend.
# Idempotent: does nothing when the headers are already there. Prints the include dirs.
#
#   scripts/fetch-cuda-deps.sh            headers only (what the build needs)
#   scripts/fetch-cuda-deps.sh --libs     also the shared libraries (to run on a GPU machine
#                                         without the wheels installed; ~2 GB unpacked)
#
# Note [headers only]: the addon dlopens libcudnn / libcublas at run time, so the build needs
# nothing but headers. The wheels are ~1 GB; we let pip fetch them (local index in this
# workplace, PIP_INDEX_URL etc. honoured elsewhere), unzip just the include/ trees and delete
# the wheels again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.cache/nvidia"
want_libs=0
[[ "${1:-}" == "--libs" ]] && want_libs=1

# Wheel name -> a header that proves its include dir is unpacked.
packages=(nvidia-cudnn-cu13 nvidia-cublas)
markers=(nvidia/cudnn/include/cudnn_version.h nvidia/cu13/include/cublas_v2.h)
libmarkers=(nvidia/cudnn/lib/libcudnn.so.9 nvidia/cu13/lib/libcublas.so.13)

# This workplace has local wheel indexes only; elsewhere pip's own configuration is used.
if [[ -z "${PIP_INDEX_URL:-}" && -d /opt/pypi/simple ]]; then
  export PIP_INDEX_URL=file:///opt/pypi/simple
  [[ -d /opt/pypi-more/simple ]] && export PIP_EXTRA_INDEX_URL=file:///opt/pypi-more/simple
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

pip_cmd() {
  if command -v pip3 >/dev/null 2>&1; then pip3 "$@";
  elif command -v python3 >/dev/null 2>&1; then python3 -m pip "$@";
  else echo "fetch-cuda-deps: pip not found (need pip3 or python3 -m pip)" >&2; return 1; fi
}

mkdir -p "$dest"
for i in "${!packages[@]}"; do
  pkg="${packages[$i]}"
  need=0
  [[ -f "$dest/${markers[$i]}" ]] || need=1
  [[ $want_libs == 1 && ! -f "$dest/${libmarkers[$i]}" ]] && need=1
  if [[ $need == 0 ]]; then continue; fi
  tmp="$(mktemp -d "$dest/.dl.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-cuda-deps: downloading $pkg" >&2
  pip_cmd download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$pkg" >&2
  whl="$(ls "$tmp"/*.whl | head -n1)"
  if [[ $want_libs == 1 ]]; then
    (cd "$dest" && python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(".", [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("nvidia/")])' "$whl")
  else
    # Extract include/ trees only.
    (cd "$dest" && python3 - "$whl" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(".", [n for n in z.namelist() if n.startswith("nvidia/") and "/include/" in n])
PY
    )
  fi
  rm -rf "$tmp"
  trap - EXIT
done

# Report the include dirs (one per line), which cmake/cuda.cmake also finds on its own.
for m in "${markers[@]}"; do
  inc="$dest/$(dirname "$m")"
  [[ -d "$inc" ]] && echo "$inc"
done
if [[ $want_libs == 1 ]]; then
  for m in "${libmarkers[@]}"; do echo "lib: $dest/$(dirname "$m")" >&2; done
fi
