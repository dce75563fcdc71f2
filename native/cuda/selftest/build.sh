#!/usr/bin/env bash
# Builds native/cuda/selftest/cuda_selftest.cc with the cuda backend into ${OUT:-/tmp}/cuda_selftest
# (no Node, no cmake): nvcc for the kernels, g++ for the rest, static cudart.
# Env: NVCC (default /usr/local/cuda/bin/nvcc), ARCH (default "-gencode arch=compute_80,code=sm_80
# -gencode arch=compute_90,code=sm_90"), JOBS (default nproc).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
nvcc="${NVCC:-/usr/local/cuda/bin/nvcc}"
cuda_home="$(cd "$(dirname "$nvcc")/.." && pwd)"
arch="${ARCH:--gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90}"
out="${OUT:-/tmp}"
obj="$(mktemp -d)"
trap 'rm -rf "$obj"' EXIT
incs=$("$root/scripts/fetch-cuda-deps.sh")
inc="-I$root/native -I$cuda_home/include"
for d in $incs; do inc="$inc -I$d"; done
jobs="${JOBS:-$(nproc)}"
srcs=("$root"/native/cuda/*.cc "$root"/native/core/params.cc "$root"/native/cuda/selftest/cuda_selftest.cc)
i=0
for f in "${srcs[@]}"; do
  [[ "$f" == *cuda_unavailable.cc ]] && continue
  g++ -std=c++17 -O2 -DCN_WITH_CUDA=1 $inc -c "$f" -o "$obj/$i.o" &
  i=$((i + 1)); (( i % jobs == 0 )) && wait
done
for f in "$root"/native/cuda/kernels/*.cu; do
  "$nvcc" -std=c++17 -O3 $arch $inc -c "$f" -o "$obj/$i.o" &
  i=$((i + 1)); (( i % jobs == 0 )) && wait
done
wait
g++ "$obj"/*.o -o "$out/cuda_selftest" -L"$cuda_home/lib64" -lcudart_static -ldl -lpthread -lrt
echo "$out/cuda_selftest"
