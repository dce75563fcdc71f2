// reduce.cc: CpuBackend reduce (sum / mean / max / min / prod), argmax and one_hot over
// [outer, reduce, inner] views. One loop shape does the work: whole rows of `inner` are
// accumulated into a tile of accumulators; a contiguous row (inner == 1) is viewed as
// [n / 64, 64] so that it takes the same shape.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::kGrain;
using cpu::parallel_for;

// Note [accurate sums]: sums and products accumulate in double. A float running sum over
// 10^7 elements loses about 3 decimal digits; a double one is exact to float precision for
// any size we can hold, and converting float -> double is a vertical op that vectorizes.
// Max/min stay in float. The lanes/tiles below keep the loops free of serial dependences,
// so the compiler vectorizes them without -ffast-math.
struct SumAcc {
  using A = double;
  static A init() { return 0.0; }
  static void add(A& a, float x) { a += x; }
  static void merge(A& a, A b) { a += b; }
};
struct ProdAcc {
  using A = double;
  static A init() { return 1.0; }
  static void add(A& a, float x) { a *= x; }
  static void merge(A& a, A b) { a *= b; }
};
// Note [NaN in max/min]: a NaN anywhere in the reduced range gives NaN (TF 2.x behaviour).
// Once the accumulator is NaN neither comparison below replaces it.
struct MaxAcc {
  using A = float;
  static A init() { return -std::numeric_limits<float>::infinity(); }
  static void add(A& a, float x) { a = (x > a || x != x) ? x : a; }
  static void merge(A& a, A b) { add(a, b); }
};
struct MinAcc {
  using A = float;
  static A init() { return std::numeric_limits<float>::infinity(); }
  static void add(A& a, float x) { a = (x < a || x != x) ? x : a; }
  static void merge(A& a, A b) { add(a, b); }
};

constexpr int64_t kTile = 256;  // inner elements per accumulator tile (2 KiB of doubles)

// acc[0, w) += rows r of x (row stride `stride`), for r in [0, rows).
template <class Acc>
void reduce_cols(typename Acc::A* acc, const float* x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * stride;
    for (int64_t i = 0; i < w; ++i) Acc::add(acc[i], xr[i]);
  }
}

// Note [row reductions]: a contiguous row is reduced as a [n / 64, 64] block with 64
// vertical accumulators (the same loop as reduce_cols, which vectorizes for every Acc,
// NaN-propagating max included), then the 64 lanes and the tail are merged. Lanes written
// as a fixed 8-wide unrolled body do not vectorize with GCC 12.
template <class Acc>
typename Acc::A reduce_row(const float* x, int64_t n) {
  using A = typename Acc::A;
  constexpr int64_t kLanes = 64;
  A a = Acc::init();
  if (n >= 2 * kLanes) {
    A lane[kLanes];
    for (int64_t k = 0; k < kLanes; ++k) lane[k] = Acc::init();
    const int64_t rows = n / kLanes;
    reduce_cols<Acc>(lane, x, rows, kLanes, kLanes);
    for (int64_t half = kLanes / 2; half > 0; half /= 2)  // pairwise merge
      for (int64_t k = 0; k < half; ++k) Acc::merge(lane[k], lane[k + half]);
    a = lane[0];
    x += rows * kLanes;
    n -= rows * kLanes;
  }
  for (int64_t i = 0; i < n; ++i) Acc::add(a, x[i]);
  return a;
}

template <class Acc>
Status reduce_impl(float* out, const float* in, const ReduceParams& p, double scale) {
  using A = typename Acc::A;
  const int64_t O = p.outer, R = p.reduce, I = p.inner;
  const int64_t tiles = (I + kTile - 1) / kTile;
  const int64_t width = std::min(I, kTile);
  const int64_t units = O * tiles;  // independent (outer, inner tile) outputs
  auto finish = [scale](A a) { return (float)((double)a * scale); };

  // Note [splitting the reduced axis]: when there are fewer independent outputs than
  // threads (a full sum, or a column sum of a tall matrix) the reduced axis is cut into
  // chunks whose partial results are merged afterwards. The chunk count follows the thread
  // count, so a sum's last bit can depend on it (partials are double, so rarely).
  int64_t chunks = 1;
  if (O * R * I > 2 * kGrain) {
    const int threads = cpu::max_threads();
    if (units < threads) {
      int64_t want = (threads + units - 1) / units;
      int64_t most = std::max<int64_t>(1, R * width / kGrain);
      chunks = std::max<int64_t>(1, std::min(want, most));
    }
  }

  // Reduces rows [r0, r1) of unit u into dst (dst[i] for the tile's inner elements).
  // Unit u is outer index u / tiles, inner tile u % tiles (no division when tiles == 1).
  auto split = [tiles](int64_t u, int64_t* o, int64_t* i0) {
    if (tiles == 1) {
      *o = u;
      *i0 = 0;
    } else {
      *o = u / tiles;
      *i0 = (u - *o * tiles) * kTile;
    }
  };
  auto work = [&](int64_t u, int64_t r0, int64_t r1, A* dst) {
    int64_t o, i0;
    split(u, &o, &i0);
    const int64_t w = std::min(kTile, I - i0);
    if (I == 1) {
      dst[0] = reduce_row<Acc>(in + o * R + r0, r1 - r0);
    } else {
      for (int64_t i = 0; i < w; ++i) dst[i] = Acc::init();
      reduce_cols<Acc>(dst, in + (o * R + r0) * I + i0, r1 - r0, I, w);
    }
  };

  if (chunks == 1) {
    parallel_for(units, cpu::row_grain(R * width), [&](int64_t b, int64_t e) {
      A acc[kTile];
      for (int64_t u = b; u < e; ++u) {
        work(u, 0, R, acc);
        int64_t o, i0;
        split(u, &o, &i0);
        const int64_t w = std::min(kTile, I - i0);
        for (int64_t i = 0; i < w; ++i) out[o * I + i0 + i] = finish(acc[i]);
      }
    });
    return Status::ok();
  }

  std::vector<A> part;
  try {
    part.resize((size_t)(chunks * O * I));
  } catch (const std::bad_alloc&) {
    return out_of_memory("reduce: no memory for partial results");
  }
  parallel_for(chunks * units, 1, [&](int64_t b, int64_t e) {
    A acc[kTile];
    for (int64_t v = b; v < e; ++v) {
      const int64_t c = v / units, u = v % units;
      work(u, R * c / chunks, R * (c + 1) / chunks, acc);
      int64_t o, i0;
      split(u, &o, &i0);
      const int64_t w = std::min(kTile, I - i0);
      std::copy(acc, acc + w, part.begin() + (c * O + o) * I + i0);
    }
  });
  for (int64_t j = 0; j < O * I; ++j) {
    A a = part[(size_t)j];
    for (int64_t c = 1; c < chunks; ++c) Acc::merge(a, part[(size_t)(c * O * I + j)]);
    out[j] = finish(a);
  }
  return Status::ok();
}

// Note [argmax ties and NaN]: the first maximum wins, and NaN never wins (Eigen's ArgMax,
// which TF uses, compares with `>` from an initial lowest()). A row of only NaN (or of
// values <= lowest(), like -inf) gives index 0.
struct MaxIgnoringNaNAcc {
  using A = float;
  static A init() { return std::numeric_limits<float>::lowest(); }
  static void add(A& a, float x) { a = x > a ? x : a; }
  static void merge(A& a, A b) { add(a, b); }
};

// Two vectorizable passes over a contiguous row: the maximum, then its first position.
int32_t argmax_row(const float* x, int64_t n) {
  const float m = reduce_row<MaxIgnoringNaNAcc>(x, n);
  if (!(m > std::numeric_limits<float>::lowest())) return 0;
  for (int64_t j = 0; j < n; ++j)
    if (x[j] == m) return (int32_t)j;
  return 0;
}

// idx[0, w) = argmax over rows r < rows of x[r * stride + i].
void argmax_cols(int32_t* idx, const float* x, int64_t rows, int64_t stride, int64_t w) {
  float best[kTile];
  for (int64_t i = 0; i < w; ++i) {
    best[i] = std::numeric_limits<float>::lowest();
    idx[i] = 0;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * stride;
    const int32_t ri = (int32_t)r;
    // Integer masks: an int32 ?: driven by a float compare does not vectorize with GCC 12.
    for (int64_t i = 0; i < w; ++i) {
      const float v = xr[i];
      const int32_t m = -(int32_t)(v > best[i]);
      best[i] = cpu::bits_select(m != 0, v, best[i]);
      idx[i] = (ri & m) | (idx[i] & ~m);
    }
  }
}

Status check_view(const char* op, const ReduceParams& p) {
  if (p.outer < 0 || p.reduce < 0 || p.inner < 0)
    return invalid_argument(std::string(op) + ": negative extent in [outer, reduce, inner] = [" +
                            std::to_string(p.outer) + "," + std::to_string(p.reduce) + "," +
                            std::to_string(p.inner) + "]");
  return Status::ok();
}

}  // namespace

Status CpuBackend::reduce(float* out, const float* in, ReduceOp op, const ReduceParams& p) {
  CN_RETURN_IF_ERROR(check_view("reduce", p));
  if ((int)op < (int)ReduceOp::kSum || (int)op > (int)ReduceOp::kProd)
    return invalid_argument("reduce: unknown op " + std::to_string((int)op));
  const int64_t n_out = p.outer * p.inner;
  if (n_out == 0) return Status::ok();
  if (!out || (!in && p.reduce > 0)) return invalid_argument("reduce: null buffer");
  if (p.reduce == 0) {  // identities; the mean of nothing is NaN, as in TF
    float v = 0.0f;
    switch (op) {
      case ReduceOp::kSum: v = 0.0f; break;
      case ReduceOp::kMean: v = std::numeric_limits<float>::quiet_NaN(); break;
      case ReduceOp::kMax: v = -std::numeric_limits<float>::infinity(); break;
      case ReduceOp::kMin: v = std::numeric_limits<float>::infinity(); break;
      case ReduceOp::kProd: v = 1.0f; break;
    }
    std::fill(out, out + n_out, v);
    return Status::ok();
  }
  switch (op) {
    case ReduceOp::kSum: return reduce_impl<SumAcc>(out, in, p, 1.0);
    case ReduceOp::kMean: return reduce_impl<SumAcc>(out, in, p, 1.0 / (double)p.reduce);
    case ReduceOp::kMax: return reduce_impl<MaxAcc>(out, in, p, 1.0);
    case ReduceOp::kMin: return reduce_impl<MinAcc>(out, in, p, 1.0);
    case ReduceOp::kProd: return reduce_impl<ProdAcc>(out, in, p, 1.0);
  }
  return Status::ok();
}

Status CpuBackend::argmax(int32_t* out, const float* in, const ReduceParams& p) {
  CN_RETURN_IF_ERROR(check_view("argmax", p));
  const int64_t O = p.outer, R = p.reduce, I = p.inner;
  if (O * I == 0) return Status::ok();
  if (R == 0) return invalid_argument("argmax: cannot take the argmax of an empty axis");
  if (R > std::numeric_limits<int32_t>::max())
    return invalid_argument("argmax: axis of " + std::to_string(R) +
                            " elements does not fit int32 indices");
  if (!out || !in) return invalid_argument("argmax: null buffer");
  if (I == 1) {
    parallel_for(O, cpu::row_grain(R), [=](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) out[o] = argmax_row(in + o * R, R);
    });
    return Status::ok();
  }
  const int64_t tiles = (I + kTile - 1) / kTile;
  parallel_for(O * tiles, cpu::row_grain(R * std::min(I, kTile)), [=](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t o = u / tiles, i0 = (u % tiles) * kTile, w = std::min(kTile, I - i0);
      argmax_cols(out + o * I + i0, in + o * R * I + i0, R, I, w);
    }
  });
  return Status::ok();
}

// Indices outside [0, depth) give a row of off_value (TF semantics).
Status CpuBackend::one_hot(float* out, const int32_t* indices, int64_t n, int64_t depth,
                           float on_value, float off_value) {
  if (n < 0 || depth < 0)
    return invalid_argument("one_hot: negative size (n " + std::to_string(n) + ", depth " +
                            std::to_string(depth) + ")");
  if (n == 0 || depth == 0) return Status::ok();
  if (!out || !indices) return invalid_argument("one_hot: null buffer");
  parallel_for(n, cpu::row_grain(depth), [&](int64_t b, int64_t e) {
    std::fill(out + b * depth, out + e * depth, off_value);
    for (int64_t i = b; i < e; ++i) {
      const int32_t k = indices[i];
      if (k >= 0 && k < depth) out[i * depth + k] = on_value;
    }
  });
  return Status::ok();
}

}  // namespace cn
