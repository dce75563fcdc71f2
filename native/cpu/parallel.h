// parallel.h: the small toolkit the hand-written cpu loops share: an OpenMP range splitter
// that stays serial (and nearly free) for small work, and a strided row walker used by
// broadcasting, slicing, padding and transposing.
#pragma once
#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../core/params.h"

namespace cn {
namespace cpu {

// Note [parallel grain]: starting an OpenMP team costs a few microseconds, so a loop only
// goes parallel when it has more than `grain` units of work, and then uses at most one
// thread per `grain` units. kGrain is for cheap per-element work (add, copy); loops whose
// element costs a libm call (exp, log, tanh) pass kGrainHeavy. A 1-element op takes the
// serial branch: one compare and a direct call.
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

}  // namespace cpu
}  // namespace cn
