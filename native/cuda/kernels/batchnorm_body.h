// What each thread of the batch-norm kernels does (batchnorm.cu), as host + device functions
// of the thread's first index t0 and the grid's thread count, plus the launch geometry. The
// kernels are one-line wrappers, so test/cuda-host-kernels.test.ts runs these very functions
// on the host, thread by thread with the launchers' geometry, against a double-precision
// reference: the indexing, splits, tails and channel-stationary logic are checked without a
// GPU.
//
// Note [batch norm passes]: the training forward reads x twice (moments, normalize) and
// writes y once; the backward reads x and dy twice (sums, dx) and writes dx once. That is
// the least traffic without keeping x on chip between passes. The moments are one pass
// (shifted sums of x and x^2 in double, shift = the channel's first value, so there is no
// cancellation for data far from zero), not two (mean, then squared deviations).
//
// Batch norm + relu (Note [batch norm + relu] in core/params.h): normalize applies the relu,
// and the backward's gradient sums and dx mask dy by ((x - mean) * scale + beta > 0), the
// very expression and operands normalize used, so the mask is the forward's.
//
// Note [batch norm in reduced precision]: x, y, dy and dx may be bfloat16 or float16 (T);
// everything else stays as in float32: the sums in double, the statistics, scale, gamma,
// beta and their gradients in float, each element widened on load and rounded once on
// store. So a bf16 batch norm differs from the float32 one by the rounding of its inputs
// and of its one output, nothing else.
//
// Note [four channels per thread]: where c % 4 == 0 and the big arrays are 16-byte aligned,
// each thread moves float4s: one float load per thread left HBM mostly idle (too few bytes in
// flight per multiprocessor). Per-channel values (mean, scale, coefficients) are loaded once
// per thread, not per element: the block size is a multiple of the channel groups, so the
// grid's thread count is too, and a thread's channels never change along its grid-stride
// loop (channel-stationary).
#pragma once
#include <cmath>
#include <cstdint>

#include "grid.h"
#include "vector_access.h"

namespace cn {
namespace cuda {
namespace k {
namespace bn {

// kColumnSums: the moments' pass, finished as plain per-channel sums (a convolution's bias
// gradient on 16-bit dy, half_conv.cc: no float32 copy of dy needed).
enum { kMoments = 0, kGradSums = 1, kColumnSums = 2 };

// ---- launch geometry (host)

// Channels per thread: 4 where c allows it and every big array is aligned for a vector of
// four elements of elem_bytes (16 bytes for float, 8 for the 16-bit types).
inline int width(int64_t c, const void* a, const void* b = nullptr, const void* d = nullptr,
                 int64_t elem_bytes = 4) {
  return c % 4 == 0 && aligned_vec(a, elem_bytes) && aligned_vec(b, elem_bytes) && aligned_vec(d, elem_bytes) ? 4
                                                                                                              : 1;
}

// Row splits of the per-channel sums: about 64K threads, each over at least 16 rows.
inline int64_t splits_for(int64_t rows, int64_t groups) {
  const int64_t threads = 65536;
  int64_t by_rows = (rows + 15) / 16;
  int64_t by_threads = (threads + groups - 1) / (groups > 0 ? groups : 1);
  int64_t s = by_rows < by_threads ? by_rows : by_threads;
  return s < 1 ? 1 : s;
}

// Doubles of scratch the sums need, for either width (it is chosen per call, by alignment).
inline int64_t partials_size(int64_t rows, int64_t c) {
  const int64_t a = splits_for(rows, c), b = c % 4 == 0 ? splits_for(rows, c / 4) : 0;
  return 2 * (a > b ? a : b) * c;
}

// A block size that is a multiple of groups (channel-stationary threads); 256 and a channel
// lookup per vector where no multiple fits in 1024 threads.
inline int stationary_block(int64_t groups, bool* stationary) {
  *stationary = groups <= 1024;
  if (!*stationary) return kThreads;
  if (groups >= kThreads) return (int)groups;
  return (int)((kThreads / groups) * groups);
}

// The grids batchnorm.cu launches (the host tests emulate exactly these).
struct Launch {
  unsigned blocks;
  int threads;
};
inline Launch partials_launch(int64_t rows, int64_t c, int w, int64_t* splits) {
  *splits = splits_for(rows, c / w);
  return {grid_for(*splits * (c / w)), kThreads};
}
inline Launch finish_launch(int64_t c) { return {grid_for(c * 32), kThreads}; }  // a warp per channel
inline Launch elementwise_launch(int64_t nvec, int64_t groups, bool* stationary) {
  const int bs = stationary_block(groups, stationary);
  return {grid_for(nvec, bs), bs};
}

// ---- per-thread work (host + device)
//
// The big arrays (x, dy, y, dx, z) are of the storage type T (float, Bf16, Fp16: loads widen
// to float, stores round); the per-channel arrays are float, and the sums double, whatever T
// is (Note [batch norm in reduced precision]: float32 statistics and parameters, as Keras's
// mixed precision keeps them).

// g = 0 where relu((x - mean) * scale + beta) is not positive (the forward's expression).
template <int W>
CN_HD void relu_mask(float (&g)[W], const float (&x)[W], const float (&mean)[W],
                        const float (&scale)[W], const float (&beta)[W]) {
  for (int j = 0; j < W; ++j) g[j] = (x[j] - mean[j]) * scale[j] + beta[j] > 0.f ? g[j] : 0.f;
}

// Partial sums of the items t0, t0 + stride, ... < splits * c / W. Item t = sp * groups + g
// covers rows [lo, hi) of split sp for the W channels from g * W (consecutive threads read
// consecutive channels of a row):
//   kMoments, kColumnSums: a = sum (x - k), b = sum (x - k)^2, k = x[0, ch] (Note [batch norm passes])
//   kGradSums: a = sum dy,      b = sum dy * (x - mean)
// Four rows' loads are issued before they are accumulated, in row order.
// With mscale (kGradSums only), dy is masked by the relu of the normalized x
// ((x - mean) * mscale + mbeta > 0; mbeta may be null: 0).
template <int W, typename T>
CN_HD void partials_thread(double* p0, double* p1, const T* x, const T* dy,
                              const float* mean, const float* mscale, const float* mbeta,
                              int64_t rows, int64_t c, int64_t splits, int kind, int64_t t0,
                              int64_t stride) {
  const int64_t groups = c / W;
  const int64_t len = (rows + splits - 1) / splits;
  for (int64_t t = t0; t < splits * groups; t += stride) {
    const int64_t sp = t / groups, ch = (t - sp * groups) * W;
    const int64_t lo = sp * len, hi = rows < lo + len ? rows : lo + len;
    float kf[W], ms[W], mb[W];
    for (int j = 0; j < W; ++j) {
      kf[j] = kind != kGradSums ? to_f(x[ch + j]) : mean[ch + j];
      ms[j] = mscale ? mscale[ch + j] : 0.f;
      mb[j] = mbeta ? mbeta[ch + j] : 0.f;
    }
    double a[W], b[W];
    for (int j = 0; j < W; ++j) a[j] = b[j] = 0.0;
    const T* xc = x + ch;
    const T* gc = dy ? dy + ch : nullptr;
    int64_t r = lo;
    if (kind != kGradSums) {
      for (; r + 4 <= hi; r += 4) {
        float v[4][W];
        for (int u = 0; u < 4; ++u) load<W>(v[u], xc + (r + u) * c);
        for (int u = 0; u < 4; ++u)
          for (int j = 0; j < W; ++j) {
            const double d = (double)v[u][j] - kf[j];
            a[j] += d;
            b[j] += d * d;
          }
      }
      for (; r < hi; ++r) {
        float v[W];
        load<W>(v, xc + r * c);
        for (int j = 0; j < W; ++j) {
          const double d = (double)v[j] - kf[j];
          a[j] += d;
          b[j] += d * d;
        }
      }
    } else {
      for (; r + 4 <= hi; r += 4) {
        float v[4][W], g[4][W];
        for (int u = 0; u < 4; ++u) {
          load<W>(v[u], xc + (r + u) * c);
          load<W>(g[u], gc + (r + u) * c);
        }
        if (mscale)
          for (int u = 0; u < 4; ++u) relu_mask<W>(g[u], v[u], kf, ms, mb);
        for (int u = 0; u < 4; ++u)
          for (int j = 0; j < W; ++j) {
            a[j] += g[u][j];
            b[j] += (double)g[u][j] * ((double)v[u][j] - kf[j]);
          }
      }
      for (; r < hi; ++r) {
        float v[W], g[W];
        load<W>(v, xc + r * c);
        load<W>(g, gc + r * c);
        if (mscale) relu_mask<W>(g, v, kf, ms, mb);
        for (int j = 0; j < W; ++j) {
          a[j] += g[j];
          b[j] += (double)g[j] * ((double)v[j] - kf[j]);
        }
      }
    }
    for (int j = 0; j < W; ++j) {
      p0[sp * c + ch + j] = a[j];
      p1[sp * c + ch + j] = b[j];
    }
  }
}

// One lane's share of channel ch's splits: lane, lane + 32, ... in order (a warp per channel;
// the kernel then adds the 32 lanes in a fixed butterfly, so the sum is deterministic).
CN_HD void finish_lane(double* a, double* b, const double* p0, const double* p1,
                          int64_t splits, int64_t c, int64_t ch, int lane) {
  double sa = 0.0, sb = 0.0;
  for (int64_t sp = lane; sp < splits; sp += 32) {
    sa += p0[sp * c + ch];
    sb += p1[sp * c + ch];
  }
  *a = sa;
  *b = sb;
}

// Channel ch's result from its totals. kMoments: out0 = mean, out1 = biased variance;
// kGradSums: out0 = sum dy, out1 = sum dy (x - mean); kColumnSums: out0 = sum x (out1 unused).
template <typename T>
CN_HD void finish_store(float* out0, float* out1, const T* x, int64_t rows, int64_t ch,
                           double a, double b, int kind) {
  if (kind == kMoments) {
    const double m1 = a / (double)rows;  // the mean of x - k
    const double var = b / (double)rows - m1 * m1;
    out0[ch] = (float)((double)to_f(x[ch]) + m1);
    out1[ch] = (float)(var > 0.0 ? var : 0.0);
  } else if (kind == kColumnSums) {
    out0[ch] = (float)(a + (double)rows * (double)to_f(x[ch]));
  } else {
    out0[ch] = (float)a;
    out1[ch] = (float)b;
  }
}

// scale = gamma / sqrt(var + eps) (gamma may be null: 1).
CN_HD void scale_item(float* scale, const float* var, const float* gamma, int64_t ch, float eps) {
  const float inv = 1.f / sqrtf(var[ch] + eps);
  scale[ch] = gamma ? gamma[ch] * inv : inv;
}

// y = (x - mean) * scale + beta (+ z, the residual, if given: Note [batch norm + add + relu]
// in core/params.h), then relu(y) if asked, over the vectors t0, t0 + stride, ... < nvec
// (beta may be null: 0). Per-channel values are reloaded only when the channel group
// changes, which happens only when !stationary.
template <int W, typename T>
CN_HD void normalize_thread(T* y, const T* x, const T* z, const float* mean,
                            const float* scale, const float* beta, bool relu, int64_t nvec,
                            int64_t groups, bool stationary, int64_t t0, int64_t stride) {
  int64_t g = -1;
  float m[W] = {}, s[W] = {}, b[W] = {};
  for (int64_t v = t0; v < nvec; v += stride) {
    const int64_t gv = stationary && g >= 0 ? g : v % groups;
    if (gv != g) {
      g = gv;
      for (int j = 0; j < W; ++j) {
        m[j] = mean[g * W + j];
        s[j] = scale[g * W + j];
        b[j] = beta ? beta[g * W + j] : 0.f;
      }
    }
    float e[W];
    load<W>(e, x + v * W);
    for (int j = 0; j < W; ++j) e[j] = (e[j] - m[j]) * s[j] + b[j];
    if (z) {
      float r[W];
      load<W>(r, z + v * W);
      for (int j = 0; j < W; ++j) e[j] = e[j] + r[j];
    }
    if (relu)
      for (int j = 0; j < W; ++j) e[j] = e[j] > 0.f ? e[j] : 0.f;
    store<W>(y + v * W, e);
  }
}

// From s_dy = sum dy and s_dyd = sum dy (x - mean), for channel ch: dbeta = s_dy,
// dgamma = s_dyd * inv, and dx's coefficients (dx = k1 dy + k2 (x - mean) + k3), in
// coeff = [k1 | k2 | k3]: k1 = g inv, k2 = -g inv^3 s_dyd / rows, k3 = -g inv s_dy / rows.
CN_HD void param_grads_item(float* dgamma, float* dbeta, float* coeff, const float* s_dy,
                               const float* s_dyd, const float* var, const float* gamma,
                               int64_t c, int64_t ch, float eps, float inv_rows) {
  const float inv = 1.f / sqrtf(var[ch] + eps);
  const float g = gamma ? gamma[ch] : 1.f;
  if (dbeta) dbeta[ch] = s_dy[ch];
  if (dgamma) dgamma[ch] = s_dyd[ch] * inv;
  if (coeff) {
    coeff[ch] = g * inv;
    coeff[c + ch] = -g * inv * inv * inv * s_dyd[ch] * inv_rows;
    coeff[2 * c + ch] = -g * inv * s_dy[ch] * inv_rows;
  }
}

// dx = k1 dy + k2 (x - mean) + k3 over the vectors t0, t0 + stride, ... < nvec; with mscale,
// dy masked as in partials_thread.
template <int W, typename T>
CN_HD void backward_data_thread(T* dx, const T* dy, const T* x, const float* mean,
                                   const float* coeff, const float* mscale, const float* mbeta,
                                   int64_t nvec, int64_t groups, int64_t c, bool stationary,
                                   int64_t t0, int64_t stride) {
  int64_t g = -1;
  float m[W] = {}, k1[W] = {}, k2[W] = {}, k3[W] = {}, ms[W] = {}, mb[W] = {};
  for (int64_t v = t0; v < nvec; v += stride) {
    const int64_t gv = stationary && g >= 0 ? g : v % groups;
    if (gv != g) {
      g = gv;
      for (int j = 0; j < W; ++j) {
        const int64_t ch = g * W + j;
        m[j] = mean[ch];
        k1[j] = coeff[ch];
        k2[j] = coeff[c + ch];
        k3[j] = coeff[2 * c + ch];
        ms[j] = mscale ? mscale[ch] : 0.f;
        mb[j] = mbeta ? mbeta[ch] : 0.f;
      }
    }
    float d[W], e[W];
    load<W>(d, dy + v * W);
    load<W>(e, x + v * W);
    if (mscale) relu_mask<W>(d, e, m, ms, mb);
    for (int j = 0; j < W; ++j) d[j] = k1[j] * d[j] + (k2[j] * (e[j] - m[j]) + k3[j]);
    store<W>(dx + v * W, d);
  }
}

}  // namespace bn
}  // namespace k
}  // namespace cuda
}  // namespace cn
