#!/usr/bin/env bash
# Packs cudnn-node and its prebuilt platform package (cudnn-node-linux-x64-gnu) into
# out/pack/ (or --out DIR), after `npm run build`. Prints both packages' sizes and fails when
# the platform package is over its 60 MB unpacked budget. Details and options: scripts/pack.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node scripts/pack.mjs "$@"
