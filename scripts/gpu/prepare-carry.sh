#!/usr/bin/env bash
# Prepares .gpu-carry/: everything scripts/gpu-check.sh needs on a GPU machine that has no
# Node and no npm registry (the lent H200; see the comment at the top of gpu-check.sh).
# Run it HERE, on the CPU machine, before calling the device tool. Idempotent: parts that
# are already up to date are kept, so a second run takes seconds.
#
#   bash scripts/gpu/prepare-carry.sh [--out DIR] [--prebuilt FILE.node | --no-prebuilt]
#                                     [--jobs N] [--force]
#
# Produces (sizes measured 2026-11-28, total about 42 MiB; the device tool carries at most
# 64 MiB together with the working tree, which is about 1.8 MiB):
#   node.xz                 this machine's `node`, stripped, xz -9 (~21 MiB; Node 20, glibc 2.36)
#   node_modules.tar.xz     the run-time closure of vitest, tsx, cmake-js, node-addon-api,
#                           node-api-headers and the package's dependencies (h5wasm, sharp),
#                           without *.md/*.map/*.d.ts (~13 MiB)
#   dnnl.tar.xz             oneDNN headers + libdnnl.so.2 (the cpu backend; ~7 MiB)
#   syslib/                 libgomp.so.1 and libOpenCL.so.1 (used there only if missing)
#   cuda-headers.tar.xz     cuDNN 9 and cuBLAS headers from .cache/nvidia (~0.1 MiB)
#   prebuilt/cudnn_node.node.xz  the addon built here with the cuda backend ON, used when the
#                           build on the GPU machine fails (+ SOURCES.sha256 of native/ etc.)
#   tf-reference.tar.xz     TensorFlow's values for every test/parity-*.test.ts case, recorded
#                           here with tfjs-node (PARITY_REFERENCE=record, test/reference.ts),
#                           so the parity suites run on cuda there without tfjs-node (~1 MiB)
#   .gitignore              '*': the folder ignores itself, so it travels only via `carry`
#   MANIFEST.txt            what is inside, sizes, versions
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. scripts/gpu/common.sh
out=".gpu-carry"
prebuilt=""
no_prebuilt=0
jobs="$(nproc)"
force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --prebuilt) prebuilt="$2"; shift 2 ;;
    --no-prebuilt) no_prebuilt=1; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "prepare-carry: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo '*' > "$out/.gitignore"
t_all=$SECONDS
say() { echo "prepare-carry: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { say "needs $1"; exit 1; }; }
need node; need xz; need tar; need strip
xzj() { xz -9 -T"$jobs" "$@"; }

# ---- 1. node
node_bin="$(readlink -f "$(command -v node)")"
node_ver="$(node -p 'process.version')"
if [[ $force == 1 || ! -f "$out/node.xz" || "$(cat "$out/node.version" 2>/dev/null)" != "$node_ver" ]]; then
  t=$SECONDS
  say "node $node_ver from $node_bin: strip + xz"
  tmp="$(mktemp)"
  strip --strip-all "$node_bin" -o "$tmp"
  "$tmp" -e 'process.exit(0)'  # the stripped binary still runs
  xzj -c "$tmp" > "$out/node.xz.tmp" && mv "$out/node.xz.tmp" "$out/node.xz"
  rm -f "$tmp"
  echo "$node_ver" > "$out/node.version"
  say "node.xz: $(du -h "$out/node.xz" | cut -f1) in $((SECONDS - t)) s"
fi

# ---- 2. node_modules (run-time closure, pruned)
# The test runner, tsx, the build tools, and the package's own run-time dependencies (lib/
# loads h5wasm and sharp lazily, for Keras weight files and images).
roots=(vitest tsx cmake-js node-addon-api node-api-headers $(node -p 'Object.keys(require("./package.json").dependencies ?? {}).join(" ")'))
lock_sum="$( { echo "${roots[*]}"; cat package-lock.json 2>/dev/null; } | sha256sum | cut -c1-16)"
if [[ $force == 1 || ! -f "$out/node_modules.tar.xz" || "$(cat "$out/node_modules.lock" 2>/dev/null)" != "$lock_sum" ]]; then
  t=$SECONDS
  list="$(mktemp)"
  node scripts/gpu/node-deps.mjs "$root" "${roots[@]}" \
    | grep -v -E '^node_modules/(@types/|typescript$)' > "$list"
  say "node_modules: $(wc -l < "$list") packages ($(xargs -a "$list" -d '\n' du -scb | tail -1 | cut -f1) bytes before pruning)"
  # Note [pruning]: docs, source maps and type declarations are not needed to run; vitest
  # and tsx transpile TypeScript with esbuild (no typescript package).
  tar -cf - --exclude='*.map' --exclude='*.md' --exclude='*.markdown' --exclude='*.d.ts' \
      --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.tsbuildinfo' --exclude='.github' \
      --exclude='node_modules/h5wasm/dist/esm' --exclude='node_modules/h5wasm/dist/iife' \
      --exclude='node_modules/h5wasm/src' --exclude='node_modules/h5wasm/test' \
      -T "$list" | xzj -c > "$out/node_modules.tar.xz.tmp"
  mv "$out/node_modules.tar.xz.tmp" "$out/node_modules.tar.xz"
  echo "$lock_sum" > "$out/node_modules.lock"
  rm -f "$list"
  say "node_modules.tar.xz: $(du -h "$out/node_modules.tar.xz" | cut -f1) in $((SECONDS - t)) s"
fi

# ---- 3. oneDNN (the cpu backend; CMakeLists.txt needs its headers and library)
if [[ $force == 1 || ! -f "$out/dnnl.tar.xz" ]]; then
  t=$SECONDS
  inc=""
  for d in ${DNNL_INCLUDE_DIR:-} /usr/include /usr/local/include; do
    [[ -f "$d/oneapi/dnnl/dnnl.hpp" ]] && { inc="$d"; break; }
  done
  lib="$(ldconfig -p | awk '/libdnnl\.so\.[0-9]+ .*x86-64/ && !f {print $NF; f = 1}')"
  [[ -n "$inc" && -n "$lib" ]] || { say "oneDNN headers/library not found (apt-get install libdnnl-dev)"; exit 1; }
  soname="$(basename "$lib")"
  stage="$(mktemp -d)"
  mkdir -p "$stage/dnnl/include" "$stage/dnnl/lib"
  cp -a "$inc/oneapi" "$stage/dnnl/include/"
  cp -a "$inc"/dnnl*.h* "$stage/dnnl/include/" 2>/dev/null || true
  cp "$(readlink -f "$lib")" "$stage/dnnl/lib/$soname"
  ln -s "$soname" "$stage/dnnl/lib/libdnnl.so"
  tar -C "$stage" -cf - dnnl | xzj -c > "$out/dnnl.tar.xz"
  rm -rf "$stage"
  say "dnnl.tar.xz ($soname from $lib): $(du -h "$out/dnnl.tar.xz" | cut -f1) in $((SECONDS - t)) s"
fi

# ---- 4. small system libraries oneDNN needs (used there only where missing)
mkdir -p "$out/syslib"
for so in libgomp.so.1 libOpenCL.so.1; do
  p="$(ldconfig -p | awk -v s="$so" '$1 == s && /x86-64/ && !f {print $NF; f = 1}')"
  if [[ -n "$p" ]]; then cp "$(readlink -f "$p")" "$out/syslib/$so"; else say "warning: $so not found here"; fi
done

# ---- 5. cuDNN / cuBLAS headers
if [[ $force == 1 || ! -f "$out/cuda-headers.tar.xz" ]]; then
  if [[ ! -f .cache/nvidia/nvidia/cudnn/include/cudnn_version.h || ! -f .cache/nvidia/nvidia/cu13/include/cublas_v2.h ]]; then
    say "fetching the cuDNN / cuBLAS headers (scripts/fetch-cuda-deps.sh)"
    bash scripts/fetch-cuda-deps.sh >/dev/null
  fi
  tar -C .cache/nvidia -cf - nvidia/cudnn/include nvidia/cu13/include | xzj -c > "$out/cuda-headers.tar.xz"
  say "cuda-headers.tar.xz: $(du -h "$out/cuda-headers.tar.xz" | cut -f1)"
fi

# ---- 6. a prebuilt addon with the cuda backend (fallback for the build there)
if [[ $no_prebuilt == 0 ]]; then
  mkdir -p "$out/prebuilt"
  sum="$(cn_sources_sum)"
  if [[ -n "$prebuilt" ]]; then
    xz -9 -T"$jobs" -c "$prebuilt" > "$out/prebuilt/cudnn_node.node.xz"
    echo "$sum" > "$out/prebuilt/SOURCES.sha256"
    echo "copied from $prebuilt on $(date -u +%FT%TZ) (sources hash as of copying)" > "$out/prebuilt/BUILD.txt"
  elif [[ $force == 1 || ! -f "$out/prebuilt/cudnn_node.node.xz" || "$(cat "$out/prebuilt/SOURCES.sha256" 2>/dev/null)" != "$sum" ]]; then
    t=$SECONDS
    bdir="$(mktemp -d /tmp/cn-prebuilt.XXXXXX)"
    say "building the addon with the cuda backend into $bdir (-j$jobs; a few minutes on 2 cores)"
    if node node_modules/cmake-js/bin/cmake-js build --out "$bdir" --CDCMAKE_BUILD_TYPE=Release -p "$jobs" > "$bdir.log" 2>&1 \
        && grep -q 'cuda backend: ON' "$bdir.log"; then
      xz -9 -T"$jobs" -c "$bdir/Release/cudnn_node.node" > "$out/prebuilt/cudnn_node.node.xz"
      echo "$sum" > "$out/prebuilt/SOURCES.sha256"
      { echo "built $(date -u +%FT%TZ) on $(uname -n)"; grep -E 'cuda backend:|The CXX compiler|CMAKE_CUDA' "$bdir.log" | head -5; } > "$out/prebuilt/BUILD.txt"
      say "prebuilt/cudnn_node.node.xz: $(du -h "$out/prebuilt/cudnn_node.node.xz" | cut -f1) in $((SECONDS - t)) s"
      rm -rf "$bdir" "$bdir.log"
    else
      say "warning: the prebuilt build failed or has no cuda backend (log: $bdir.log); continuing without it"
      grep -E 'cuda backend|error' "$bdir.log" | head -5 >&2 || true
      rm -f "$out/prebuilt/cudnn_node.node.xz"
    fi
  fi
fi

# ---- 7. TensorFlow references for the parity suites (tfjs-node here, replayed there)
# Redone when the parity tests, their helpers or tfjs-node change. The parity files run
# here on the cpu backend while recording, so a failure here is reported, not hidden.
ref_files=(test/parity-*.test.ts)
ref_sum="$( { cat "${ref_files[@]}" test/parity-driver.ts test/parity-common.ts test/reference.ts test/helpers.ts; \
             node -p 'require("@tensorflow/tfjs-node/package.json").version' 2>/dev/null; } | sha256sum | cut -c1-16)"
if [[ $force == 1 || ! -f "$out/tf-reference.tar.xz" || "$(cat "$out/tf-reference.sum" 2>/dev/null)" != "$ref_sum" ]]; then
  t=$SECONDS
  rdir="$(mktemp -d /tmp/cn-tf-reference.XXXXXX)"
  say "recording TensorFlow references: ${ref_files[*]}"
  if PARITY_REFERENCE="record:$rdir/tf-reference" node node_modules/vitest/vitest.mjs run "${ref_files[@]}" \
       --reporter=dot --outputFile.json="$rdir/results.json" > "$rdir/log" 2>&1; then
    say "parity suites passed on cpu while recording"
  else
    say "warning: parity suites failed on cpu while recording (log: $rdir/log); the recording is kept"
    grep -E '✗|×|FAIL' "$rdir/log" | head -5 >&2 || true
  fi
  n="$(ls "$rdir/tf-reference" 2>/dev/null | wc -l)"
  if (( n == ${#ref_files[@]} )); then
    tar -C "$rdir" -cf - tf-reference | xzj -c > "$out/tf-reference.tar.xz"
    echo "$ref_sum" > "$out/tf-reference.sum"
    say "tf-reference.tar.xz ($n files): $(du -h "$out/tf-reference.tar.xz" | cut -f1) in $((SECONDS - t)) s"
  else
    say "warning: recorded $n of ${#ref_files[@]} parity files (is tfjs-node installed? scripts/install-tfjs-node.sh); no tf-reference carried"
    rm -f "$out/tf-reference.tar.xz" "$out/tf-reference.sum"
  fi
  rm -rf "$rdir"
fi

# ---- 8. manifest and sizes
carry_bytes="$(du -sb "$out" | cut -f1)"
tree_bytes="$(git ls-files -co --exclude-standard -z 2>/dev/null | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1 || echo 0)"
{
  echo "cudnn-node GPU carry, prepared $(date -u +%FT%TZ) on $(uname -n) ($(. /etc/os-release; echo "$PRETTY_NAME"), glibc $(ldd --version | head -1 | awk '{print $NF}'))"
  echo "node $node_ver"
  (cd "$out" && find . -type f ! -name MANIFEST.txt -printf '%s\t%p\n' | sort -k2)
  echo "total carry bytes: $carry_bytes; working tree bytes: ${tree_bytes:-?}; limit 67108864"
} > "$out/MANIFEST.txt"
total=$(( carry_bytes + ${tree_bytes:-0} ))
say "done in $((SECONDS - t_all)) s: $out = $(( carry_bytes / 1048576 )) MiB, working tree $(( ${tree_bytes:-0} / 1048576 )) MiB, together $(( total / 1048576 )) MiB of 64 MiB"
if (( total > 64 * 1048576 )); then say "ERROR: over the device tool's 64 MiB limit"; exit 1; fi
