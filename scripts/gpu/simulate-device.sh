#!/usr/bin/env bash
# Rehearses the device call on this (CPU) machine: copies what the device tool sends (the
# working tree's tracked and untracked-not-ignored files, plus .gpu-carry) to a scratch
# folder and runs scripts/gpu-check.sh there with an environment like the GPU machine's:
# no node on PATH (the carried one is used), no node_modules, no .cache, OUT set.
#
#   bash scripts/gpu/simulate-device.sh [gpu-check options, e.g. --cpu-dry-run --prefer-prebuilt]
#
# Env: SIM_DIR (default /tmp/cn-gpu-sim), SIM_PYTHON (python for the PyTorch side).
# Results: $SIM_DIR/out (what $OUT would bring back).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sim="${SIM_DIR:-/tmp/cn-gpu-sim}"
[[ -d "$root/.gpu-carry" ]] || { echo "simulate-device: run scripts/gpu/prepare-carry.sh first" >&2; exit 2; }
rm -rf "$sim" && mkdir -p "$sim/tree" "$sim/out" "$sim/bin"
# A PATH without node: every command of /usr/bin and /usr/local/bin but node, npm, npx, corepack.
for f in /usr/bin/* /usr/local/bin/*; do
  case "$(basename "$f")" in node|nodejs|npm|npx|corepack) continue ;; esac
  ln -sf "$f" "$sim/bin/"
done
cd "$root"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$sim/tree/"
cp -a .gpu-carry "$sim/tree/"
echo "simulate-device: tree $(du -sh --exclude=.gpu-carry "$sim/tree" | cut -f1), carry $(du -sh "$sim/tree/.gpu-carry" | cut -f1)" >&2
cd "$sim/tree"
env -i HOME="${HOME:-/root}" TERM=dumb PATH="$sim/bin:/usr/sbin" OUT="$sim/out" \
  ${SIM_PYTHON:+PYTHON="$SIM_PYTHON"} bash scripts/gpu-check.sh --carry .gpu-carry "$@"
