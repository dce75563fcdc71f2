// parallel.h: the small toolkit the hand-written cpu loops share: an OpenMP range splitter
// that stays serial (and nearly free) for small work, a strided row walker used by
// broadcasting, slicing, padding and transposing, and branch-free exp / tanh that vectorize.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../core/params.h"

// Forces inlining of the small scalar helpers used inside vectorizable loops: an outlined
// call in a loop body stops vectorization, and GCC outlines helpers used in several places.
#if defined(__GNUC__) || defined(__clang__)
#define CN_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define CN_INLINE __forceinline
#else
#define CN_INLINE inline
#endif

namespace cn {
namespace cpu {

// Note [parallel grain]: starting an OpenMP team costs a few microseconds, so a loop only
// goes parallel when it has more than `grain` units of work, and then uses at most one
// thread per `grain` units. kGrain is for cheap per-element work (add, copy); loops whose
// element costs ten or more times that (a libm call, exp_f, tanh_f) pass kGrainHeavy.
// A 1-element op takes the serial branch: one compare and a direct call. The split is
// static and even, so a given thread count always produces the same ranges.
constexpr int64_t kGrain = 32768;
constexpr int64_t kGrainHeavy = 4096;

inline int max_threads() {
#ifdef _OPENMP
  // Nested calls (from inside a parallel region) run serially.
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// Calls f(begin, end) on disjoint ranges that cover [0, n), in parallel when n > grain.
// f must not throw.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  if (n <= grain) {
    f(int64_t(0), n);
    return;
  }
#ifdef _OPENMP
  int64_t nt = std::min<int64_t>(max_threads(), (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (nt > 1) {
#pragma omp parallel num_threads((int)nt)
    {
      int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
      int64_t b = n / T * t + std::min(t, n % T);
      int64_t e = b + n / T + (t < n % T ? 1 : 0);
      if (b < e) f(b, e);
    }
    return;
  }
#endif
  f(int64_t(0), n);
}

// Grain in rows for a loop whose row costs `row_cost` element-units.
inline int64_t row_grain(int64_t row_cost, int64_t grain = kGrain) {
  return std::max<int64_t>(1, grain / std::max<int64_t>(row_cost, 1));
}

// Walks the rows of a contiguous output whose outer axes have the given extents, keeping
// the element offsets of up to three strided operands. seek() positions it at a row by
// division (once per parallel range); next() advances with carries.
struct RowWalker {
  int rank = 0;                         // number of outer axes
  int nops = 0;                         // number of operands
  int64_t extent[kMaxRank] = {0};
  int64_t stride[3][kMaxRank] = {{0}};  // per operand, per outer axis
  int64_t idx[kMaxRank] = {0};
  int64_t off[3] = {0, 0, 0};

  void seek(int64_t row) {
    for (int j = 0; j < nops; ++j) off[j] = 0;
    for (int k = rank - 1; k >= 0; --k) {
      idx[k] = row % extent[k];
      row /= extent[k];
      for (int j = 0; j < nops; ++j) off[j] += idx[k] * stride[j][k];
    }
  }
  void next() {
    for (int k = rank - 1; k >= 0; --k) {
      for (int j = 0; j < nops; ++j) off[j] += stride[j][k];
      if (++idx[k] < extent[k]) return;
      for (int j = 0; j < nops; ++j) off[j] -= stride[j][k] * extent[k];
      idx[k] = 0;
    }
  }
};

// Splits rows * row_len elements across threads (so one huge row still spreads) and calls
// f(walker, row, c0, c1) for each piece [c0, c1) of a row, with the walker at that row.
// `proto` carries rank, extents and strides; its extents must multiply to `rows`.
template <class F>
inline void parallel_rows(const RowWalker& proto, int64_t rows, int64_t row_len, int64_t grain,
                          const F& f) {
  if (rows <= 0 || row_len <= 0) return;
  parallel_for(rows * row_len, grain, [&](int64_t b, int64_t e) {
    RowWalker w = proto;
    int64_t row = b / row_len, c0 = b % row_len;
    w.seek(row);
    int64_t i = b;
    while (i < e) {
      int64_t c1 = std::min(row_len, c0 + (e - i));
      f(w, row, c0, c1);
      i += c1 - c0;
      c0 = 0;
      if (i < e) {
        w.next();
        ++row;
      }
    }
  });
}

// ---- vectorizable math

// Note [bit selects]: GCC 12 will not if-convert `c ? a : b` when it can move floating-point
// work into only one arm (that work might trap under the default -ftrapping-math), and it
// happily does such moves (sinking, jump threading on a clamped constant). Selecting on the
// bit patterns keeps the loop branch-free, so it vectorizes.
CN_INLINE float bits_select(bool c, float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  const int32_t m = -(int32_t)c;
  const int32_t r = (ia & m) | (ib & ~m);
  float f;
  std::memcpy(&f, &r, 4);
  return f;
}

// Note [vectorizable exp]: libm's expf/tanhf are scalar calls (glibc's vector variants need
// -ffast-math), 10-20x slower than a vector loop. exp_f is the Cephes expf (Cody-Waite
// reduction, degree-7 polynomial, 2^n applied in two halves so denormal results and
// overflow to inf come out right): at most 1 ulp from the true value, NaN in -> NaN out.
// It is the same scheme as Eigen's pexp, which TF's CPU kernels use.
CN_INLINE float exp_f(float x) {
  float t = x * 1.44269504088896341f;  // x / ln 2
  t = bits_select(t > 128.0f, 128.0f, t);
  t = bits_select(t < -150.0f, -150.0f, t);
  float n = (t + 12582912.0f) - 12582912.0f;  // round to nearest integer (|t| < 2^22)
  float r = x - n * 0.693359375f;             // ln 2 split in two for an exact reduction
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  n = bits_select(n == n, n, 0.0f);  // NaN would make the int conversion undefined
  const int32_t ni = (int32_t)n, h = ni >> 1;
  const int32_t b1 = (h + 127) << 23, b2 = (ni - h + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  return bits_select(x < -104.0f, 0.0f, p * s1 * s2);  // below -104 the result rounds to 0
}

// tanh as Eigen's generic_fast_tanh_float (what TF's CPU Tanh computes): a 13/6 rational
// approximation on [-7.9053, 7.9053], where tanh is within half an ulp of +-1 beyond it;
// |x| < 0.0004 returns x. At most ~7 ulp (4e-7 absolute) from the true value.
CN_INLINE float tanh_f(float a) {
  const float c = 7.90531110763549805f;
  float x = bits_select(a > c, c, a);
  x = bits_select(x < -c, -c, x);
  const float x2 = x * x;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * x;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return bits_select(std::fabs(a) < 0.0004f, a, p / q);
}

}  // namespace cpu
}  // namespace cn
