// The counter-based generator behind dropout masks and random tensors, defined exactly as
// the cpu backend's (native/cpu/random.cc, Note [generator definition]): Philox4x32-10,
// element i of a draw with seed s taking word i % 4 of the block
// philox({lo32(i / 4), hi32(i / 4), 0, 0}, {lo32(s), hi32(s)}). Value i depends only on
// (seed, i), so any launch shape gives the cpu backend's numbers: uniform ones bit for bit,
// normal ones up to the ulps by which the two libms' logf / sinf / cosf differ.
// Plain header usable from C++ and CUDA alike.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define CN_RNG_FN __host__ __device__ __forceinline__
#else
#define CN_RNG_FN inline
#endif

namespace cn {
namespace rng {

struct Block {
  uint32_t x[4];
};

CN_RNG_FN Block philox4x32_10(uint64_t j, uint64_t seed) {
  uint32_t c0 = (uint32_t)j, c1 = (uint32_t)(j >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0;
    uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
  }
  Block b;
  b.x[0] = c0;
  b.x[1] = c1;
  b.x[2] = c2;
  b.x[3] = c3;
  return b;
}

constexpr float kTwoM24 = 1.0f / 16777216.0f;

// Uniform in [0, 1) from the top 24 bits of a word (exact in float).
CN_RNG_FN float uniform01(uint32_t w) { return (float)(w >> 8) * kTwoM24; }

}  // namespace rng
}  // namespace cn
