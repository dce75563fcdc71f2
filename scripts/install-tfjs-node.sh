#!/usr/bin/env bash
# Install @tensorflow/tfjs-node's native binding fully OFFLINE.
#
# tfjs-node's own install script downloads libtensorflow 2.9.1 from Google
# storage, which is unreachable here. Instead we take the TensorFlow C API
# (libtensorflow_cc.so.2 + libtensorflow_framework.so.2 + tensorflow/c/*.h;
# TF_/TFE_ graph+eager symbols are in _cc, TF_Status/TF_Tensor in _framework)
# from the `tensorflow-cpu` wheel in the local pip index, stage it in
# node_modules/@tensorflow/tfjs-node/deps/{lib,include} and compile the
# binding from source with npm's bundled node-gyp against local Node headers.
#
# Preconditions: run from the project root, after `npm ci --ignore-scripts`.
# Needs: node/npm, python3 + pip, g++, make. Nothing is fetched from the
# internet: pip reads only the local file:// indexes, node-gyp uses --nodedir.
# The binding gets RUNPATH $ORIGIN/../../deps/lib, so no LD_LIBRARY_PATH is
# needed at test time.
#
# Idempotent: if the binding is already built and works, it only re-verifies.
# Env knobs:
#   TFJS_FORCE_REBUILD=1     re-extract and rebuild even if it already works
#   TF_WHEEL_SPEC            pip requirement (default: tensorflow-cpu==2.21.*)
#   TF_WHEEL_CACHE           wheel download dir (default: .cache/tf-wheel)
#   TFJS_NODEDIR             Node headers prefix (default: npm's nodedir, or
#                            the prefix of the running node if it has
#                            include/node/node_api.h)
set -euo pipefail

log() { printf '[install-tfjs-node] %s\n' "$*" >&2; }
die() { printf '[install-tfjs-node] ERROR: %s\n' "$*" >&2; exit 1; }

PROJECT_ROOT="$(pwd)"
TFJS_DIR="$PROJECT_ROOT/node_modules/@tensorflow/tfjs-node"
TF_WHEEL_SPEC="${TF_WHEEL_SPEC:-tensorflow-cpu==2.21.*}"
TF_WHEEL_CACHE="${TF_WHEEL_CACHE:-$PROJECT_ROOT/.cache/tf-wheel}"
case "$TF_WHEEL_CACHE" in /*) ;; *) TF_WHEEL_CACHE="$PROJECT_ROOT/$TF_WHEEL_CACHE" ;; esac

[ -f "$TFJS_DIR/package.json" ] ||
  die "$TFJS_DIR not found; run 'npm ci --ignore-scripts' from the project root first"
for tool in node npm python3 g++ make; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found (apt-get install -y build-essential python3)"
done

TFJS_VERSION="$(node -p "require('$TFJS_DIR/package.json').version")"
# node-pre-gyp's find() picks the highest napi version listed in package.json
# that this node supports; build exactly that one.
NAPI_VERSION="$(node -p "
  const b = require('$TFJS_DIR/package.json').binary;
  const own = +process.versions.napi;
  Math.max(...b.napi_versions.filter(v => v <= own))")"
MODULE_PATH="$TFJS_DIR/lib/napi-v$NAPI_VERSION"
BINDING="$MODULE_PATH/tfjs_binding.node"
DEPS_LIB="$TFJS_DIR/deps/lib"
DEPS_INC="$TFJS_DIR/deps/include"

verify() {
  # Runs from the project root so that require() resolves like the tests do.
  node - <<'EOF'
const tf = require('@tensorflow/tfjs-node');
const name = tf.backend().constructor.name;
console.log(name, tf.version.tfjs, 'libtensorflow', tf.backend().binding.TF_Version, 'TF_ENABLE_ONEDNN_OPTS=' + process.env.TF_ENABLE_ONEDNN_OPTS);
if (tf.getBackend() !== 'tensorflow' || name !== 'NodeJSKernelBackend') {
  throw new Error(`expected the native tensorflow backend, got ${tf.getBackend()}/${name}`);
}
const close = (a, b, what) => {
  if (a.length !== b.length || a.some((v, i) => Math.abs(v - b[i]) > 1e-4)) {
    throw new Error(`${what} mismatch: got [${Array.from(a)}], expected [${b}]`);
  }
};
// simple op
close(tf.add(tf.tensor1d([1, 2, 3]), tf.scalar(1)).dataSync(), [2, 3, 4], 'add');
// conv2d: 1x3x3x1 input of ones, 2x2x1x1 filter of ones, VALID -> 4s
const x = tf.ones([1, 3, 3, 1]);
const w = tf.ones([2, 2, 1, 1]);
const y = tf.conv2d(x, w, 1, 'valid');
close(y.shape, [1, 2, 2, 1], 'conv2d shape');
close(y.dataSync(), [4, 4, 4, 4], 'conv2d');
// gradients through conv2d (Conv2DBackpropFilter/Input kernels)
const g = tf.grads((a, b) => tf.conv2d(a, b, 1, 'valid').sum());
const [dx, dw] = g([x, w]);
close(dx.dataSync(), [1, 2, 1, 2, 4, 2, 1, 2, 1], 'conv2d dx');
close(dw.dataSync(), [4, 4, 4, 4], 'conv2d dw');
// matMul + softmax sanity
close(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync(), [11], 'matMul');
console.log('tfjs-node native backend OK (add, conv2d, conv2d grads, matMul)');
EOF
}

# TF 2.21's oneDNN (MKL) Conv2DBackpropInput returns wrong input gradients
# when the filter has in_channels == out_channels == 1 (e.g. the gradient of
# conv2d(ones[1,3,3,1], ones[2,2,1,1]) w.r.t. the input comes back as
# [1,1,0,1,1,0,0,0,0] instead of [1,2,1,2,4,2,1,2,1]); with oneDNN off every
# conv/pool/matmul kernel we compared matches tfjs' pure-JS cpu backend.
# So default TF_ENABLE_ONEDNN_OPTS=0 inside tfjs-node's entry point, before
# the native library is loaded. An explicit TF_ENABLE_ONEDNN_OPTS still wins.
# TF reads it when libtensorflow is dlopen'ed, and process.env writes only
# reach the real environment from the main thread: if tfjs-node is loaded in a
# worker thread (e.g. vitest --pool=threads) set TF_ENABLE_ONEDNN_OPTS=0 in the
# parent (test script env, or `process.env.TF_ENABLE_ONEDNN_OPTS ??= '0'` at
# the top of vitest.config.ts). The default vitest 3 pool ('forks') is fine.
patch_onednn_default() {
  local index="$TFJS_DIR/dist/index.js" mark='[install-tfjs-node.sh] oneDNN default'
  grep -qF "$mark" "$index" && return 0
  log "patching ${index#$PROJECT_ROOT/}: default TF_ENABLE_ONEDNN_OPTS=0"
  MARK="$mark" node - "$index" <<'EOF'
const fs = require('fs');
const file = process.argv[2];
const src = fs.readFileSync(file, 'utf8');
const line = `if (process.env.TF_ENABLE_ONEDNN_OPTS === undefined) process.env.TF_ENABLE_ONEDNN_OPTS = '0'; // ${process.env.MARK}: TF 2.21 oneDNN Conv2DBackpropInput bug\n`;
const strict = '"use strict";\n';
const out = src.startsWith(strict) ? strict + line + src.slice(strict.length) : line + src;
fs.writeFileSync(file, out);
EOF
}

if [ "${TFJS_FORCE_REBUILD:-0}" != 1 ] && [ -f "$BINDING" ] &&
   [ -f "$DEPS_LIB/libtensorflow_cc.so.2" ] && [ -f "$DEPS_LIB/libtensorflow_framework.so.2" ]; then
  log "binding already present at ${BINDING#$PROJECT_ROOT/}; verifying"
  patch_onednn_default
  if verify; then log "already installed; nothing to do"; exit 0; fi
  log "existing install failed verification; rebuilding"
fi

# ---------------------------------------------------------------- 1. wheel
export PIP_INDEX_URL="${PIP_INDEX_URL:-file:///opt/pypi/simple}"
export PIP_EXTRA_INDEX_URL="${PIP_EXTRA_INDEX_URL:-file:///opt/pypi-more/simple}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
mkdir -p "$TF_WHEEL_CACHE"
WHEEL="$(ls -1 "$TF_WHEEL_CACHE"/tensorflow_cpu-*.whl 2>/dev/null | sort -V | tail -n1 || true)"
if [ -z "$WHEEL" ]; then
  log "pip download $TF_WHEEL_SPEC -> ${TF_WHEEL_CACHE#$PROJECT_ROOT/}"
  python3 -m pip download --no-deps --only-binary=:all: -d "$TF_WHEEL_CACHE" "$TF_WHEEL_SPEC" >&2
  WHEEL="$(ls -1 "$TF_WHEEL_CACHE"/tensorflow_cpu-*.whl | sort -V | tail -n1)"
fi
[ -f "$WHEEL" ] || die "no tensorflow_cpu wheel in $TF_WHEEL_CACHE"
log "using wheel $(basename "$WHEEL")"

# ------------------------------------------ 2. stage C API libs + headers
# deps/lib:     libtensorflow_cc.so.2 (has the TF_*/TFE_* C API),
#               libtensorflow_framework.so.2,
#               libtensorflow.so -> libtensorflow_cc.so.2 (for -ltensorflow),
#               libtensorflow_framework.so -> libtensorflow_framework.so.2
# deps/include: tensorflow/c/{c_api.h,eager/c_api.h,...} and, transitively,
#               every header they include (tsl status, ctstring, ...).
mkdir -p "$DEPS_LIB" "$DEPS_INC"
python3 - "$WHEEL" "$DEPS_LIB" "$DEPS_INC" <<'EOF'
import os, re, shutil, sys, zipfile
wheel, lib_dir, inc_dir = sys.argv[1:]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())

def extract(member, dest):
    info = z.getinfo(member)
    if os.path.isfile(dest) and os.path.getsize(dest) == info.file_size:
        return False
    tmp = dest + '.tmp'
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with z.open(info) as src, open(tmp, 'wb') as out:
        shutil.copyfileobj(src, out, 1 << 20)
    os.chmod(tmp, 0o755 if '.so' in dest else 0o644)
    os.replace(tmp, dest)
    return True

for so in ('libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'):
    member = 'tensorflow/' + so
    if member not in names:
        sys.exit(f'{member} not in wheel')
    if extract(member, os.path.join(lib_dir, so)):
        print(f'extracted {so}', file=sys.stderr)

# Headers: start from what the binding includes, follow "..." includes.
prefix = 'tensorflow/include/'
todo = ['tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h',
        'tensorflow/c/tf_datatype.h', 'tensorflow/c/tf_status.h',
        'tensorflow/c/tf_tensor.h', 'tensorflow/core/platform/ctstring_internal.h']
seen = set()
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
while todo:
    h = todo.pop()
    if h in seen:
        continue
    seen.add(h)
    if prefix + h not in names:
        sys.exit(f'header {h} not found in wheel')
    extract(prefix + h, os.path.join(inc_dir, h))
    todo.extend(inc_re.findall(z.read(prefix + h).decode('utf-8', 'replace')))
print(f'staged {len(seen)} headers', file=sys.stderr)
EOF
ln -sfn libtensorflow_cc.so.2 "$DEPS_LIB/libtensorflow.so"
ln -sfn libtensorflow_framework.so.2 "$DEPS_LIB/libtensorflow_framework.so"

# The C API must really be exported: TF_*/TFE_* graph+eager API lives in
# libtensorflow_cc.so.2, the core TF_Status/TF_Tensor API in
# libtensorflow_framework.so.2 (symbols are versioned, e.g. TFE_Execute@@tensorflow).
EXPORTED="$(nm -D --defined-only "$DEPS_LIB/libtensorflow_cc.so.2" "$DEPS_LIB/libtensorflow_framework.so.2" |
  awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }')"
for sym in TF_Version TF_NewStatus TF_AllocateTensor TFE_NewContext TFE_NewOp TFE_Execute; do
  grep -qx "$sym" <<<"$EXPORTED" || die "C API symbol $sym not exported by the wheel's libtensorflow_{cc,framework}.so.2"
done
unset EXPORTED

# ---------------------------------------------------- 3. build the binding
NPM_PREFIX_DIR="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
NODE_GYP="$NPM_PREFIX_DIR/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$NODE_GYP" ]; then
  NODE_GYP="$(command -v node-gyp || true)"
  [ -n "$NODE_GYP" ] || die "node-gyp not found (neither bundled with npm nor on PATH)"
fi

NODEDIR="${TFJS_NODEDIR:-$(npm config get nodedir 2>/dev/null || true)}"
case "$NODEDIR" in undefined|null) NODEDIR="" ;; esac
if [ -z "$NODEDIR" ]; then
  NODEDIR="$(node -p "process.config.variables.node_prefix || ''")"
fi
[ -f "$NODEDIR/include/node/node_api.h" ] && [ -f "$NODEDIR/include/node/common.gypi" ] ||
  die "local Node headers not found under '$NODEDIR/include/node' (set TFJS_NODEDIR); refusing to download them"
HDR_VER="$(sed -nE 's/^#define NODE_(MAJOR|MINOR|PATCH)_VERSION ([0-9]+).*/\2/p' "$NODEDIR/include/node/node_version.h" | paste -sd.)"
[ "v$HDR_VER" = "$(node -v)" ] || log "warning: Node headers $HDR_VER != node $(node -v) (N-API addon, usually fine)"

log "building tfjs_binding (napi v$NAPI_VERSION, tfjs-node $TFJS_VERSION) with $NODE_GYP --nodedir=$NODEDIR"
rm -f "$BINDING"
(
  cd "$TFJS_DIR"
  node "$NODE_GYP" rebuild \
    --nodedir="$NODEDIR" \
    --jobs="$(nproc)" \
    --module_name=tfjs_binding \
    --module_path="$MODULE_PATH" \
    --napi_build_version="$NAPI_VERSION" >&2
)
[ -f "$BINDING" ] || die "build finished but $BINDING is missing"

# Make sure the binding resolves libtensorflow from deps/lib by itself.
if ldd "$BINDING" | grep -q 'not found'; then
  ldd "$BINDING" >&2
  die "unresolved shared libraries for $BINDING"
fi
rm -rf "$TFJS_DIR/build/Release/obj.target" # intermediate objects only

# ------------------------------------------------------------- 4. verify
patch_onednn_default
verify || die "tfjs-node verification failed"
log "done"
