# Helpers shared by scripts/gpu-check.sh and scripts/gpu/prepare-carry.sh (sourced).

# A short hash of the native sources: tells whether a prebuilt addon matches this tree.
cn_sources_sum() {
  { find native cmake -type f \( -name '*.cc' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cmake' \) -print0 \
      | LC_ALL=C sort -z | xargs -0 cat; cat CMakeLists.txt; } | sha256sum | cut -c1-16
}

# cn_unxz FILE.xz DEST: xz, or Python's lzma where xz is missing.
cn_unxz() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"), 1 << 20)' "$1" "$2"; fi
}

# cn_untar_xz FILE.tar.xz DIR
cn_untar_xz() {
  mkdir -p "$2"
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" | tar -C "$2" -xf -
  else python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi
}
