// Dropout masks and uniform / normal random tensors from Philox4x32-10 (counter_rng.h):
// one thread per block of four elements, numbers identical to the cpu backend's.
#include "common.cuh"
#include "counter_rng.h"

namespace cn {
namespace cuda {
namespace k {

namespace {

// kind 0: dropout (a = rate, b = 1 / (1 - rate)); 1: uniform [a, b); 2: normal(a, b).
__global__ void random_kernel(float* out, int64_t n, int kind, float a, float b, uint64_t seed) {
  CN_FOR_EACH(j, (n + 3) / 4) {
    rng::Block x = rng::philox4x32_10((uint64_t)j, seed);
    int64_t i0 = 4 * j, m = n - i0 < 4 ? n - i0 : 4;
    if (kind == 2) {  // Box-Muller on the pairs (x0, x1) and (x2, x3)
      for (int64_t k = 0; k < m; k += 2) {
        float u1 = (float)((x.x[k] >> 8) + 1) * rng::kTwoM24;  // (0, 1]: log is finite
        float u2 = (float)(x.x[k + 1] >> 8) * rng::kTwoM24;
        float r = sqrtf(-2.0f * logf(u1)), t = 6.2831853f * u2;
        out[i0 + k] = a + b * (r * cosf(t));
        if (k + 1 < m) out[i0 + k + 1] = a + b * (r * sinf(t));
      }
    } else {
      for (int64_t k = 0; k < m; ++k) {
        float u = rng::uniform01(x.x[k]);
        out[i0 + k] = kind == 0 ? (u >= a ? b : 0.0f) : a + (b - a) * u;
      }
    }
  }
}

cudaError_t launch(cudaStream_t s, float* out, int64_t n, int kind, float a, float b,
                   uint64_t seed) {
  if (n == 0) return cudaSuccess;
  random_kernel<<<grid_for((n + 3) / 4), kThreads, 0, s>>>(out, n, kind, a, b, seed);
  return cudaGetLastError();
}

}  // namespace

cudaError_t dropout_mask(cudaStream_t s, float* mask, int64_t n, float rate, uint64_t seed) {
  return launch(s, mask, n, 0, rate, 1.0f / (1.0f - rate), seed);
}

cudaError_t random(cudaStream_t s, float* out, int64_t n, bool normal, float a, float b,
                   uint64_t seed) {
  return launch(s, out, n, normal ? 2 : 1, a, b, seed);
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
