// random.cc: CpuBackend dropout_mask and random (uniform / normal) from the counter-based
// Philox4x32-10 generator, so element i depends only on (seed, i): the same numbers come out
// serial or parallel, and the CUDA backend can reproduce them by copying the definition below.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

// Note [generator definition]: the CUDA kernel must implement exactly this.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the
// Random123 / cuRAND / JAX generator):
//   round(ctr, key): p0 = 0xD2511F53 * ctr[0], p1 = 0xCD9E8D57 * ctr[2]  (32x32 -> 64 bit)
//                    ctr = { hi(p1) ^ ctr[1] ^ key[0], lo(p1), hi(p0) ^ ctr[3] ^ key[1], lo(p0) }
//   10 rounds; between rounds key[0] += 0x9E3779B9, key[1] += 0xBB67AE85 (mod 2^32).
//   Known answer: ctr = {0,0,0,0}, key = {0,0} -> {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}.
//
// Element i of a call with seed s uses block j = i / 4 and word w = x[i % 4] of
//   x = philox({lo32(j), hi32(j), 0, 0}, {lo32(s), hi32(s)}).
// Uniform in [0, 1):  u(w) = (w >> 8) * 2^-24 (24 bits: exact in float).
// dropout_mask:       mask[i] = u(w) >= rate ? 1 / (1 - rate) : 0, with 1 / (1 - rate) in float.
// random, uniform:    out[i] = a + (b - a) * u(w), in float.
// random, normal:     Box-Muller on the word pairs (x0, x1) -> elements 4j, 4j+1 and
//                     (x2, x3) -> elements 4j+2, 4j+3:
//                       u1 = ((x_even >> 8) + 1) * 2^-24  (in (0, 1], so log is finite)
//                       u2 = (x_odd >> 8) * 2^-24
//                       r = sqrtf(-2 logf(u1)), t = 2 pi u2   (float, 2 pi = 6.2831853f)
//                       even element: a + b * (r * cosf(t)); odd: a + b * (r * sinf(t))
// Uniform streams and dropout masks match bit for bit across backends provided the products
// are not contracted into FMAs (CUDA: __fadd_rn(a, __fmul_rn(b - a, u))); normal streams
// match up to the ulps by which the two libms' logf/sinf/cosf differ.
constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key schedule (Weyl) increments
constexpr int64_t kBatch = 64;                              // blocks generated together

// Note [vectorized Philox]: the blocks of a batch are generated side by side, one array per
// counter word, so each round is a loop over blocks that the compiler vectorizes (the
// 32x32->64 multiplies become pmuludq). words[4 * b + k] = word k of block j0 + b.
void philox_batch(uint32_t* words, uint64_t j0, int64_t nb, uint64_t seed) {
  uint32_t c0[kBatch], c1[kBatch], c2[kBatch], c3[kBatch];
  for (int64_t b = 0; b < nb; ++b) {
    const uint64_t j = j0 + (uint64_t)b;
    c0[b] = (uint32_t)j;
    c1[b] = (uint32_t)(j >> 32);
    c2[b] = 0;
    c3[b] = 0;
  }
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      const uint64_t p0 = (uint64_t)kM0 * c0[b];
      const uint64_t p1 = (uint64_t)kM1 * c2[b];
      const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[b] ^ k0;
      const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[b] ^ k1;
      c1[b] = (uint32_t)p1;
      c3[b] = (uint32_t)p0;
      c0[b] = n0;
      c2[b] = n2;
    }
    k0 += kW0;  // the bump after the last round is unused
    k1 += kW1;
  }
  for (int64_t b = 0; b < nb; ++b) {
    words[4 * b + 0] = c0[b];
    words[4 * b + 1] = c1[b];
    words[4 * b + 2] = c2[b];
    words[4 * b + 3] = c3[b];
  }
}

constexpr float kTwoM24 = 1.0f / 16777216.0f;
// (w >> 8) < 2^24 fits int32 exactly; converting through int32 keeps the loop vectorizable.
CN_INLINE float uniform01(uint32_t w) { return (float)(int32_t)(w >> 8) * kTwoM24; }

// Calls f(out_offset, words, m) for consecutive runs of m <= 4 * kBatch elements, where
// words[k] is the word of element out_offset + k. Element i always uses block i / 4, word
// i % 4, however the batches are split across threads.
template <class F>
void for_each_batch(int64_t n, uint64_t seed, int64_t grain, F f) {
  const int64_t blocks = (n + 3) / 4, batches = (blocks + kBatch - 1) / kBatch;
  cpu::parallel_for(batches, cpu::row_grain(4 * kBatch, grain), [=](int64_t b, int64_t e) {
    uint32_t words[4 * kBatch];
    for (int64_t t = b; t < e; ++t) {
      const int64_t j0 = t * kBatch, nb = std::min(kBatch, blocks - j0);
      philox_batch(words, (uint64_t)j0, nb, seed);
      const int64_t i0 = 4 * j0;
      f(i0, words, std::min(4 * nb, n - i0));
    }
  });
}

void dropout_run(float* mask, const uint32_t* w, int64_t m, float rate, float scale) {
  for (int64_t k = 0; k < m; ++k) mask[k] = uniform01(w[k]) >= rate ? scale : 0.0f;
}
void uniform_run(float* out, const uint32_t* w, int64_t m, float a, float range) {
  for (int64_t k = 0; k < m; ++k) out[k] = a + range * uniform01(w[k]);
}
// m may be odd only at the very end of the output.
void normal_run(float* out, const uint32_t* w, int64_t m, float mean, float sd) {
  for (int64_t k = 0; k < m; k += 2) {
    const float u1 = (float)(int32_t)((w[k] >> 8) + 1) * kTwoM24;
    const float u2 = (float)(int32_t)(w[k + 1] >> 8) * kTwoM24;
    const float r = std::sqrt(-2.0f * std::log(u1));
    const float t = 6.2831853f * u2;
    out[k] = mean + sd * (r * std::cos(t));
    if (k + 1 < m) out[k + 1] = mean + sd * (r * std::sin(t));
  }
}

}  // namespace

Status CpuBackend::dropout_mask(float* mask, int64_t n, float rate, uint64_t seed) {
  if (n < 0) return invalid_argument("dropout_mask: negative element count " + std::to_string(n));
  if (!(rate >= 0.0f && rate < 1.0f))
    return invalid_argument("dropout_mask: rate must be in [0, 1) but received " +
                            std::to_string(rate));
  if (n == 0) return Status::ok();
  if (!mask) return invalid_argument("dropout_mask: null buffer");
  const float scale = 1.0f / (1.0f - rate);
  for_each_batch(n, seed, cpu::kGrain, [=](int64_t i0, const uint32_t* w, int64_t m) {
    dropout_run(mask + i0, w, m, rate, scale);
  });
  return Status::ok();
}

Status CpuBackend::random(float* out, int64_t n, bool normal, float a, float b, uint64_t seed) {
  if (n < 0) return invalid_argument("random: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok();
  if (!out) return invalid_argument("random: null buffer");
  if (normal) {
    for_each_batch(n, seed, cpu::kGrainHeavy, [=](int64_t i0, const uint32_t* w, int64_t m) {
      normal_run(out + i0, w, m, a, b);
    });
  } else {
    const float range = b - a;
    for_each_batch(n, seed, cpu::kGrain, [=](int64_t i0, const uint32_t* w, int64_t m) {
      uniform_run(out + i0, w, m, a, range);
    });
  }
  return Status::ok();
}

}  // namespace cn
