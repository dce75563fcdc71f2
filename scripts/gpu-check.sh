#!/usr/bin/env bash
# scripts/gpu-check.sh (`npm run gpu:check`): on a Linux machine with an NVIDIA GPU, its
# driver, a CUDA toolkit (nvcc) and Python's NVIDIA wheels, but no npm registry: builds the
# addon with the cuda backend (cmake-js from node_modules, offline), runs test/gpu.test.ts and
# test/cuda-half-ops.test.ts (the bf16 / fp16 kernels on cuda against float32 on cpu),
# the GPU benchmark (bench/gpu.ts, PyTorch side by side where python3 has it) and the op
# suites on cuda, in under 8 minutes, and prints a short table LAST.
#
# ---- On the lent H200 (device tool). Node is not installed there and nothing can be
# fetched, so Node, node_modules, oneDNN and headers travel in .gpu-carry (~42 MiB):
#   1. here, on the CPU machine (no device time; ~10 min the first time, seconds after
#      unless native/ changed, which rebuilds the carried fallback addon):
#        bash scripts/gpu/prepare-carry.sh
#   2. then ONE device call:
#        run(command="bash scripts/gpu-check.sh --carry .gpu-carry", carry=[".gpu-carry"], timeout_s=560)
#      The table is the end of output_tail; $OUT brings back gpu-check.log, build.log,
#      phases.tsv, doctor.json, test-gpu.json, test-parity.json, test-suites.json and
#      bench-gpu.json (8 files, the device tool's limit; the table is also in gpu-check.log).
#      A rerun on the still-warm machine can skip the build: add --prefer-prebuilt (the
#      carried addon built here) or --no-build (reuse build/gpu-check from the first run).
#   Rehearse it here first (no GPU: cuda reports unavailable, the rest runs on cpu):
#        bash scripts/gpu/simulate-device.sh --cpu-dry-run
#
# ---- Elsewhere (node and node_modules present): npm run gpu:check [-- options]
#
# Options:
#   --carry DIR        use DIR from scripts/gpu/prepare-carry.sh (node, node_modules, oneDNN, headers, prebuilt addon)
#   --build-dir DIR    cmake-js output folder (default build/gpu-check; the addon is used via CUDNN_NODE_BINARY)
#   --no-build         use the addon already in the build dir (else the prebuilt one)
#   --prefer-prebuilt  skip the build and use the carried prebuilt addon
#   --budget S         target seconds for the whole check (default 450); phases get what is left
#   --skip-bench, --skip-suites, --with-parity (also the tfjs-node parity suites: needs tfjs-node)
#   --jobs N           build parallelism (default nproc)
#   --cpu-dry-run      no GPU here: still run the benchmark and the op suites, on the cpu
#                      backend with tiny sizes, to check this script's plumbing
#
# Phases: setup -> build (falls back to the carried prebuilt addon when it fails or has no
# cuda) -> cuda backend (doctor) -> gpu tests -> benchmark -> parity suites [cuda] against
# recorded TensorFlow values -> op suites [cuda] -> summary.
# Exit status: 0 when every phase passed, 1 otherwise (the table says which).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/gpu/common.sh
T0=$SECONDS

carry=""
build_dir="build/gpu-check"
budget=450
do_build=1
prefer_prebuilt=0
do_bench=1
do_suites=1
with_parity=0
dry=0
jobs="$(nproc 2>/dev/null || echo 4)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --carry) carry="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --prefer-prebuilt) prefer_prebuilt=1; shift ;;
    --budget) budget="$2"; shift 2 ;;
    --skip-bench) do_bench=0; shift ;;
    --skip-suites) do_suites=0; shift ;;
    --with-parity) with_parity=1; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    --cpu-dry-run) dry=1; shift ;;
    -h|--help) awk 'NR > 1 && /^set -uo/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# Logs and JSON: the device tool's $OUT comes back to the caller; elsewhere out/ (ignored).
LOGDIR="${OUT:-$root/out/gpu-check}"
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/{gpu-check.log,build.log,phases.tsv,doctor.json,test-gpu.json,test-parity.json,test-suites.json,bench-gpu.json,summary.md}
LOG="$LOGDIR/gpu-check.log"
WORK="${TMPDIR:-/tmp}/cn-gpu-check"
rm -rf "$WORK" && mkdir -p "$WORK"

say() { echo "[gpu-check +$((SECONDS - T0))s] $*" | tee -a "$LOG"; }
remaining() { echo $(( budget - (SECONDS - T0) )); }
min() { (( $1 < $2 )) && echo "$1" || echo "$2"; }
max() { (( $1 > $2 )) && echo "$1" || echo "$2"; }
failed=0
# phase NAME STATUS SECONDS NOTE
phase() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$LOGDIR/phases.tsv"
  say "phase $1: $2 (${3}s) ${4:-}"
  case "$2" in ok*|skipped*) ;; *) failed=1 ;; esac
}
add_ld() { export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$1"; }
export NO_COLOR=1 FORCE_COLOR=0 CI=1

# ------------------------------------------------------------------ setup
t=$SECONDS
setup_note=""
if [[ -n "$carry" ]]; then
  [[ -d "$carry" ]] || { echo "gpu-check: --carry $carry: no such folder (run scripts/gpu/prepare-carry.sh here first)" >&2; exit 2; }
  carry="$(cd "$carry" && pwd)"
  say "carry: $carry ($(du -sh "$carry" | cut -f1))"
fi

# Node: the one on PATH, else the carried one.
if ! command -v node >/dev/null 2>&1; then
  [[ -n "$carry" && -f "$carry/node.xz" ]] || { echo "gpu-check: node is not installed and no carried node (--carry DIR with node.xz)" >&2; exit 2; }
  mkdir -p "$WORK/node/bin"
  cn_unxz "$carry/node.xz" "$WORK/node/bin/node" && chmod +x "$WORK/node/bin/node"
  export PATH="$WORK/node/bin:$PATH"
  setup_note+="carried node $(node --version 2>&1 | head -1); "
fi
node --version >/dev/null 2>&1 || { say "node does not run: $(node --version 2>&1 | head -2)"; phase setup FAILED $((SECONDS - t)) "node does not run"; exit 1; }

# node_modules: what is here, else the carried closure (vitest, tsx, cmake-js, node-addon-api, node-api-headers).
if [[ ! -f node_modules/vitest/package.json || ! -f node_modules/tsx/package.json || ! -f node_modules/cmake-js/package.json || ! -f node_modules/node-addon-api/package.json ]]; then
  [[ -n "$carry" && -f "$carry/node_modules.tar.xz" ]] || { phase setup FAILED $((SECONDS - t)) "node_modules missing and not carried"; exit 1; }
  cn_untar_xz "$carry/node_modules.tar.xz" "$root"
  setup_note+="carried node_modules; "
fi

# oneDNN (cpu backend): the carried copy when there is one (there is none on the GPU image).
dnnl_args=()
if [[ -n "$carry" && -f "$carry/dnnl.tar.xz" ]]; then
  cn_untar_xz "$carry/dnnl.tar.xz" "$WORK"
  dnnl_args=(--CDDNNL_INCLUDE_DIR="$WORK/dnnl/include" --CDDNNL_LIBRARY="$WORK/dnnl/lib/libdnnl.so")
  add_ld "$WORK/dnnl/lib"
  setup_note+="carried oneDNN; "
fi
# libgomp / libOpenCL (oneDNN needs them): carried copies only where the system has none.
if [[ -n "$carry" && -d "$carry/syslib" ]]; then
  ldcache="$(ldconfig -p 2>/dev/null || true)"  # (not piped into grep -q: pipefail + SIGPIPE)
  for so in libgomp.so.1 libOpenCL.so.1; do
    if ! grep -q "^[[:space:]]*$so " <<< "$ldcache"; then
      mkdir -p "$WORK/syslib" && cp "$carry/syslib/$so" "$WORK/syslib/" 2>/dev/null && setup_note+="carried $so; "
    fi
  done
  [[ -d "$WORK/syslib" ]] && add_ld "$WORK/syslib"
fi
[[ -n "$carry" && -f "$carry/cuda-headers.tar.xz" ]] && cn_untar_xz "$carry/cuda-headers.tar.xz" "$WORK/cuda-headers"

# Python's NVIDIA wheels: cuDNN / cuBLAS at run time (and their headers for the build).
PY="${PYTHON:-python3}"
site=""
if command -v "$PY" >/dev/null 2>&1; then
  for d in $("$PY" -c 'import site, sysconfig; print("\n".join(dict.fromkeys([sysconfig.get_paths()["purelib"], *site.getsitepackages()])))' 2>/dev/null); do
    [[ -f "$d/nvidia/cudnn/lib/libcudnn.so.9" ]] && { site="$d"; break; }
  done
fi
cublas_dir=""
if [[ -n "$site" ]]; then
  for d in "$site/nvidia/cu13/lib" "$site/nvidia/cublas/lib"; do
    ls "$d"/libcublas.so.1[23] >/dev/null 2>&1 && { cublas_dir="$d"; break; }
  done
  export CUDNN_NODE_CUDNN_PATH="$site/nvidia/cudnn/lib"
  [[ -n "$cublas_dir" ]] && export CUDNN_NODE_CUBLAS_PATH="$cublas_dir"
  # cuDNN dlopens NVRTC and friends by soname: let the loader see the wheels' lib folders.
  add_ld "$site/nvidia/cudnn/lib${cublas_dir:+:$cublas_dir}"
  setup_note+="wheels in $site; "
else
  setup_note+="no NVIDIA wheels found for $PY (cuDNN from the system loader path); "
fi
for d in /usr/local/cuda/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [[ -d "$d" ]] && add_ld "$d"
done

# nvcc and headers for the build.
if [[ -z "${CUDACXX:-}" ]]; then
  if [[ -x /usr/local/cuda/bin/nvcc ]]; then export CUDACXX=/usr/local/cuda/bin/nvcc
  elif command -v nvcc >/dev/null 2>&1; then CUDACXX="$(command -v nvcc)"; export CUDACXX; fi
fi
first_with() {  # first_with FILE DIR... -> the first DIR holding FILE
  local f="$1"; shift
  for d in "$@"; do [[ -n "$d" && -f "$d/$f" ]] && { echo "$d"; return; }; done
}
nvcc_inc="${CUDACXX:+$(dirname "$CUDACXX")/../include}"
cudnn_inc="$(first_with cudnn_version.h "${CUDNN_INCLUDE_DIR:-}" "${site:+$site/nvidia/cudnn/include}" .cache/nvidia/nvidia/cudnn/include "$WORK/cuda-headers/nvidia/cudnn/include")"
cublas_inc="$(first_with cublasLt.h "${CUBLAS_INCLUDE_DIR:-}" "${site:+$site/nvidia/cu13/include}" "${site:+$site/nvidia/cublas/include}" .cache/nvidia/nvidia/cu13/include "$WORK/cuda-headers/nvidia/cu13/include" "$nvcc_inc")"
cuda_args=()
[[ -n "$cudnn_inc" ]] && cuda_args+=(--CDCUDNN_INCLUDE_DIR="$(cd "$cudnn_inc" && pwd)")
[[ -n "$cublas_inc" ]] && cuda_args+=(--CDCUBLAS_INCLUDE_DIR="$(cd "$cublas_inc" && pwd)")

# The GPU: its compute capability picks the one architecture to build (faster than the CI set).
gpu=""
arch=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu="$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
  cc="$(echo "$gpu" | awk -F', ' '{print $2}' | tr -d '.')"
  [[ "$cc" =~ ^[0-9]+$ ]] && arch="${cc}-real"
fi
[[ -n "$arch" ]] && cuda_args+=(--CDCMAKE_CUDA_ARCHITECTURES="$arch")
say "GPU: ${gpu:-none found (nvidia-smi)}; nvcc: ${CUDACXX:-none}; cuDNN headers: ${cudnn_inc:-none}; cuBLAS headers: ${cublas_inc:-none}"
say "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
phase setup ok $((SECONDS - t)) "$setup_note"

# ------------------------------------------------------------------ build
t=$SECONDS
addon=""
build_note=""
if (( do_build && ! prefer_prebuilt )); then
  tb="$(max 60 "$(min 300 $(( $(remaining) - 200 )))")"
  say "building into $build_dir (cmake-js build, -j$jobs, timeout ${tb}s; log: $LOGDIR/build.log)"
  HOME="${HOME:-$WORK}" timeout -k 10 "$tb" node node_modules/cmake-js/bin/cmake-js build --out "$build_dir" \
      --CDCMAKE_BUILD_TYPE=Release "${dnnl_args[@]}" "${cuda_args[@]}" -p "$jobs" > "$LOGDIR/build.log" 2>&1
  rc=$?
  cuda_line="$(grep -o 'cuda backend: [A-Z]*.*' "$LOGDIR/build.log" | head -1 | cut -c1-160)"
  if [[ $rc == 0 && -f "$build_dir/Release/cudnn_node.node" && "$cuda_line" == "cuda backend: ON"* ]]; then
    addon="$root/$build_dir/Release/cudnn_node.node"
    phase build ok $((SECONDS - t)) "cuda ON${arch:+, $arch}"
  else
    why="rc $rc"; [[ $rc == 124 ]] && why="timed out after ${tb}s"
    err="$(grep -m1 -iE 'error|fatal' "$LOGDIR/build.log" | cut -c1-160)"
    tail -25 "$LOGDIR/build.log" | tee -a "$LOG"
    phase build FAILED $((SECONDS - t)) "$why; ${cuda_line:-no cuda line}; ${err}"
  fi
elif (( ! prefer_prebuilt )) && [[ -f "$build_dir/Release/cudnn_node.node" ]]; then
  addon="$root/$build_dir/Release/cudnn_node.node"
  phase build "skipped" 0 "--no-build: using $build_dir"
fi
if [[ -z "$addon" && -n "$carry" && -f "$carry/prebuilt/cudnn_node.node.xz" ]]; then
  mkdir -p "$WORK/prebuilt"
  cn_unxz "$carry/prebuilt/cudnn_node.node.xz" "$WORK/prebuilt/cudnn_node.node"
  addon="$WORK/prebuilt/cudnn_node.node"
  match="no"; [[ "$(cat "$carry/prebuilt/SOURCES.sha256" 2>/dev/null)" == "$(cn_sources_sum)" ]] && match="yes"
  build_note="carried prebuilt addon (sources match: $match; $(head -1 "$carry/prebuilt/BUILD.txt" 2>/dev/null))"
  phase "prebuilt addon" ok 0 "$build_note"
fi
if [[ -z "$addon" ]]; then
  phase "addon" FAILED 0 "no addon with the cuda backend: the build failed and nothing prebuilt was carried"
  node scripts/gpu/summary.mjs "$LOGDIR" $((SECONDS - T0))
  exit 1
fi
export CUDNN_NODE_BINARY="$addon"

# ------------------------------------------------------------------ cuda backend
t=$SECONDS
timeout -k 5 90 node --import tsx scripts/gpu/doctor.ts "$LOGDIR/doctor.json" 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
has_cuda=0
case $rc in
  0) has_cuda=1; phase "cuda backend" ok $((SECONDS - t)) "available" ;;
  3) phase "cuda backend" "NOT AVAILABLE" $((SECONDS - t)) "compiled in; see the reason above (driver, device, cuDNN paths searched)" ;;
  4) phase "cuda backend" "NOT COMPILED" $((SECONDS - t)) "the addon has no cuda backend" ;;
  *) phase "cuda backend" "FAILED" $((SECONDS - t)) "the addon did not load (rc $rc)" ;;
esac

# ------------------------------------------------------------------ GPU tests
t=$SECONDS
tt="$(max 60 "$(min 180 $(( $(remaining) - 150 )))")"
say "test/gpu.test.ts test/cuda-half-ops.test.ts (timeout ${tt}s)"
timeout -k 10 "$tt" node node_modules/vitest/vitest.mjs run test/gpu.test.ts test/cuda-half-ops.test.ts --reporter=default --reporter=json \
    --outputFile.json="$LOGDIR/test-gpu.json" 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
if [[ $rc == 0 ]]; then phase "gpu tests" ok $((SECONDS - t)); else phase "gpu tests" "FAILED" $((SECONDS - t)) "rc $rc$([[ $rc == 124 ]] && echo ' (timed out)')"; fi

# ------------------------------------------------------------------ benchmark
t=$SECONDS
if (( do_bench && (has_cuda || dry) )); then
  tbench="$(max 90 "$(min 240 $(( $(remaining) - 90 )))")"
  # The benchmark keeps to --budget-s (ours, then PyTorch) with a margin for the layer and
  # training step in flight when it runs out; its JSON is written before PyTorch starts.
  bench_flags=(--json "$LOGDIR/bench-gpu.json" --budget-s $(( tbench - 60 )) --python "$PY")
  (( tbench >= 200 )) && bench_flags+=(--fp32)
  (( has_cuda )) || bench_flags+=(--backend cpu --batch 2 --samples 1 --target-s 0.002 --only fashion)
  say "bench/gpu.ts ${bench_flags[*]} (timeout ${tbench}s)"
  timeout -k 10 "$tbench" node --import tsx bench/gpu.ts "${bench_flags[@]}" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  if [[ $rc == 0 ]]; then phase benchmark ok $((SECONDS - t)) "$( (( has_cuda )) || echo 'cpu dry run')"; else phase benchmark FAILED $((SECONDS - t)) "rc $rc$([[ $rc == 124 ]] && echo ' (timed out)')"; fi
else
  phase benchmark skipped 0 "$( (( do_bench )) && echo 'no cuda device' || echo '--skip-bench')"
fi

# ------------------------------------------------------------------ parity suites on cuda, TensorFlow replayed
# test/parity-*.test.ts against TensorFlow's values recorded on the CPU machine with
# tfjs-node (prepare-carry.sh step 7; test/reference.ts): cuda against TensorFlow itself,
# not only against our cpu backend. With --with-parity and tfjs-node here, the op suites
# below run them live instead.
t=$SECONDS
ref_dir=""
if [[ -n "$carry" && -f "$carry/tf-reference.tar.xz" ]]; then
  cn_untar_xz "$carry/tf-reference.tar.xz" "$WORK" && ref_dir="$WORK/tf-reference"
fi
if (( (has_cuda || dry) && ! with_parity )) && [[ -n "$ref_dir" ]]; then
  b=cuda; (( has_cuda )) || b=cpu
  tp="$(max 30 "$(min 120 $(( $(remaining) - 60 )))")"
  say "parity suites on $b against recorded TensorFlow values (timeout ${tp}s): $(ls "$ref_dir" | tr '\n' ' ')"
  PARITY_REFERENCE="replay:$ref_dir" timeout -k 10 "$tp" node node_modules/vitest/vitest.mjs run test/parity-*.test.ts \
      -t "\\[$b\\]" --reporter=default --reporter=json --outputFile.json="$LOGDIR/test-parity.json" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  if [[ $rc == 0 ]]; then phase "parity [cuda] vs TF" ok $((SECONDS - t)) "$( (( has_cuda )) || echo 'cpu dry run')"; else phase "parity [cuda] vs TF" FAILED $((SECONDS - t)) "rc $rc$([[ $rc == 124 ]] && echo ' (timed out)')"; fi
elif (( with_parity )); then
  phase "parity [cuda] vs TF" skipped 0 "--with-parity: run live with tfjs-node in the op suites"
elif [[ -z "$ref_dir" ]]; then
  phase "parity [cuda] vs TF" skipped 0 "no tf-reference.tar.xz in the carry (scripts/gpu/prepare-carry.sh records it)"
else
  phase "parity [cuda] vs TF" skipped 0 "no cuda device"
fi

# ------------------------------------------------------------------ op suites on cuda
t=$SECONDS
if (( do_suites && (has_cuda || dry) )); then
  # Every suite written with describeBackends, its [cuda] blocks only. Without tfjs-node
  # (not carried: 1 GB) the parity suites and the tfjs comparisons are left out; the
  # datasets suite needs the system's Fashion-MNIST files.
  files=()
  for f in test/*.test.ts; do
    [[ "$f" == test/gpu.test.ts ]] && continue
    grep -q describeBackends "$f" || continue
    if (( ! with_parity )); then
      [[ "$f" == *parity* ]] && continue
      # A file that loads tfjs-node at its top level (e.g. in a file-wide beforeAll) fails as a whole.
      grep -qE '^ {0,2}[^ /].*loadTfjs\(' "$f" && continue
      [[ "$f" == test/datasets.test.ts && ! -d /usr/share/datasets/fashion-mnist ]] && continue
    fi
    files+=("$f")
  done
  b=cuda; (( has_cuda )) || b=cpu
  pattern="\\[$b\\]"
  (( with_parity )) || pattern="^(?!.*(?:tfjs|parity)).*\\[$b\\]"
  ts="$(max 30 $(( $(remaining) - 15 )))"
  say "op suites on $b (timeout ${ts}s, -t '$pattern'): ${files[*]}"
  timeout -k 10 "$ts" node node_modules/vitest/vitest.mjs run "${files[@]}" -t "$pattern" --reporter=default --reporter=json \
      --outputFile.json="$LOGDIR/test-suites.json" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  if [[ $rc == 0 ]]; then phase "op suites [cuda]" ok $((SECONDS - t)) "$( (( has_cuda )) || echo 'cpu dry run')"; else phase "op suites [cuda]" FAILED $((SECONDS - t)) "rc $rc$([[ $rc == 124 ]] && echo ' (timed out: raise --budget)')"; fi
else
  phase "op suites [cuda]" skipped 0 "$( (( do_suites )) && echo 'no cuda device' || echo '--skip-suites')"
fi

# ------------------------------------------------------------------ summary (printed last)
echo
node scripts/gpu/summary.mjs "$LOGDIR" $((SECONDS - T0)) | tee -a "$LOG"
exit $failed
