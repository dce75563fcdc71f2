// Batch normalization over the last axis of [rows, c] (NHWC flattened): per-channel
// statistics by deterministic two-stage reductions (partials per row split in double, then
// a fixed-order sum per channel), and the elementwise normalize / backward-data passes.
// See Note [API choice: batch norm] in ../batchnorm.cc for why these are ours.
#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

enum { kSumX, kSumSqDev, kSumDyAndDyDev };

// Partial sums over rows [lo, hi) of one channel (xc, gc point at that channel's first
// element; rows are c apart):
//   kSumX:          a = sum x
//   kSumSqDev:      a = sum (x - mean)^2
//   kSumDyAndDyDev: a = sum dy, b = sum dy * (x - mean)
// Note [unrolled partial sums]: each step loads four rows before accumulating them in row
// order (so the sums are the plain loop's, bit for bit). nvcc unrolled only the kSumX loop by
// itself; with one load in flight per thread the other two read HBM at a fraction of its
// bandwidth, and these passes dominate batch norm. Host-callable so the rows logic can be
// checked without a GPU.
__host__ __device__ inline void bn_partial_item(double* a_out, double* b_out, const float* xc,
                                                const float* gc, float m, int64_t lo,
                                                int64_t hi, int64_t c, int kind) {
  double a = 0.0, b = 0.0;
  int64_t r = lo;
  if (kind == kSumX) {
    for (; r + 4 <= hi; r += 4) {
      const float v0 = xc[r * c], v1 = xc[(r + 1) * c], v2 = xc[(r + 2) * c], v3 = xc[(r + 3) * c];
      a += v0;
      a += v1;
      a += v2;
      a += v3;
    }
    for (; r < hi; ++r) a += xc[r * c];
  } else if (kind == kSumSqDev) {
    for (; r + 4 <= hi; r += 4) {
      const float v0 = xc[r * c], v1 = xc[(r + 1) * c], v2 = xc[(r + 2) * c], v3 = xc[(r + 3) * c];
      const double d0 = (double)v0 - m, d1 = (double)v1 - m, d2 = (double)v2 - m, d3 = (double)v3 - m;
      a += d0 * d0;
      a += d1 * d1;
      a += d2 * d2;
      a += d3 * d3;
    }
    for (; r < hi; ++r) {
      const double d = (double)xc[r * c] - m;
      a += d * d;
    }
  } else {
    for (; r + 4 <= hi; r += 4) {
      const float v0 = xc[r * c], v1 = xc[(r + 1) * c], v2 = xc[(r + 2) * c], v3 = xc[(r + 3) * c];
      const float g0 = gc[r * c], g1 = gc[(r + 1) * c], g2 = gc[(r + 2) * c], g3 = gc[(r + 3) * c];
      a += g0;
      b += (double)g0 * ((double)v0 - m);
      a += g1;
      b += (double)g1 * ((double)v1 - m);
      a += g2;
      b += (double)g2 * ((double)v2 - m);
      a += g3;
      b += (double)g3 * ((double)v3 - m);
    }
    for (; r < hi; ++r) {
      const float v = xc[r * c], g = gc[r * c];
      a += g;
      b += (double)g * ((double)v - m);
    }
  }
  *a_out = a;
  *b_out = b;
}

// Partial sums of split sp for the item t = sp * c + ch. Consecutive threads take
// consecutive channels, so each row's read is coalesced.
__global__ void bn_partials_kernel(double* p0, double* p1, const float* x, const float* dy,
                                   const float* mean, int64_t rows, int64_t c, int64_t splits,
                                   int kind) {
  const int64_t len = (rows + splits - 1) / splits;
  CN_FOR_EACH(t, splits * c) {
    const int64_t sp = t / c, ch = t - sp * c;
    const int64_t lo = sp * len, hi = min(rows, lo + len);
    double a, b;
    bn_partial_item(&a, &b, x + ch, dy ? dy + ch : nullptr, mean ? mean[ch] : 0.f, lo, hi, c, kind);
    p0[t] = a;
    if (p1) p1[t] = b;
  }
}

// out[ch] = scale * sum over splits of partial[sp * c + ch], in split order.
__global__ void bn_finish_kernel(float* out, const double* partial, int64_t splits, int64_t c,
                                 double scale) {
  CN_FOR_EACH(ch, c) {
    double s = 0.0;
    for (int64_t sp = 0; sp < splits; ++sp) s += partial[sp * c + ch];
    out[ch] = (float)(s * scale);
  }
}

// y = (x - mean) / sqrt(var + eps) * gamma + beta (gamma, beta may be null: 1 and 0).
__global__ void bn_normalize_kernel(float* y, const float* x, const float* mean,
                                    const float* var, const float* gamma, const float* beta,
                                    int64_t n, int64_t c, float eps) {
  CN_FOR_EACH(i, n) {
    const int64_t ch = i % c;
    float v = (x[i] - mean[ch]) * (1.f / sqrtf(var[ch] + eps));
    if (gamma) v *= gamma[ch];
    if (beta) v += beta[ch];
    y[i] = v;
  }
}

// From s_dy = sum dy and s_dyd = sum dy (x - mean): dbeta = s_dy, dgamma = s_dyd * inv.
__global__ void bn_param_grads_kernel(float* dgamma, float* dbeta, const float* s_dy,
                                      const float* s_dyd, const float* var, int64_t c,
                                      float eps) {
  CN_FOR_EACH(ch, c) {
    if (dbeta) dbeta[ch] = s_dy[ch];
    if (dgamma) dgamma[ch] = s_dyd[ch] * (1.f / sqrtf(var[ch] + eps));
  }
}

// dx = gamma * inv * (dy - s_dy / rows - (x - mean) * inv^2 * s_dyd / rows).
__global__ void bn_backward_data_kernel(float* dx, const float* dy, const float* x,
                                        const float* mean, const float* var, const float* gamma,
                                        const float* s_dy, const float* s_dyd, int64_t n,
                                        int64_t c, float eps, float inv_rows) {
  CN_FOR_EACH(i, n) {
    const int64_t ch = i % c;
    const float inv = 1.f / sqrtf(var[ch] + eps);
    const float g = gamma ? gamma[ch] : 1.f;
    const float xmu = x[i] - mean[ch];
    dx[i] = g * inv * (dy[i] - s_dy[ch] * inv_rows - xmu * inv * inv * s_dyd[ch] * inv_rows);
  }
}

}  // namespace

int64_t bn_splits(int64_t rows, int64_t c) {
  // About 128K threads in flight, each over at least 16 rows.
  int64_t by_rows = (rows + 15) / 16;
  int64_t by_threads = (131072 + c - 1) / (c > 0 ? c : 1);
  int64_t s = by_rows < by_threads ? by_rows : by_threads;
  return s < 1 ? 1 : s;
}

cudaError_t bn_channel_sums(cudaStream_t s, float* out0, float* out1, double* partials,
                            const float* x, const float* dy, const float* mean, int64_t rows,
                            int64_t c, int kind, double scale) {
  if (c == 0) return cudaSuccess;
  const int64_t splits = bn_splits(rows, c);
  double* p0 = partials;
  double* p1 = kind == kSumDyAndDyDev ? partials + splits * c : nullptr;
  bn_partials_kernel<<<grid_for(splits * c), kThreads, 0, s>>>(p0, p1, x, dy, mean, rows, c,
                                                                splits, kind);
  bn_finish_kernel<<<grid_for(c), kThreads, 0, s>>>(out0, p0, splits, c, scale);
  if (p1) bn_finish_kernel<<<grid_for(c), kThreads, 0, s>>>(out1, p1, splits, c, scale);
  return cudaGetLastError();
}

cudaError_t bn_normalize(cudaStream_t s, float* y, const float* x, const float* mean,
                         const float* var, const float* gamma, const float* beta, int64_t rows,
                         int64_t c, float eps) {
  const int64_t n = rows * c;
  if (n == 0) return cudaSuccess;
  bn_normalize_kernel<<<grid_for(n), kThreads, 0, s>>>(y, x, mean, var, gamma, beta, n, c, eps);
  return cudaGetLastError();
}

cudaError_t bn_backward(cudaStream_t s, float* dx, float* dgamma, float* dbeta, const float* dy,
                        const float* x, const float* mean, const float* var, const float* gamma,
                        const float* s_dy, const float* s_dyd, int64_t rows, int64_t c,
                        float eps) {
  if (c == 0) return cudaSuccess;
  bn_param_grads_kernel<<<grid_for(c), kThreads, 0, s>>>(dgamma, dbeta, s_dy, s_dyd, var, c, eps);
  const int64_t n = rows * c;
  if (dx && n > 0)
    bn_backward_data_kernel<<<grid_for(n), kThreads, 0, s>>>(dx, dy, x, mean, var, gamma, s_dy,
                                                             s_dyd, n, c, eps,
                                                             1.f / (float)rows);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
