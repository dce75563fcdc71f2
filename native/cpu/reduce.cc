// reduce.cc: CpuBackend reduce (sum / mean / max / min / prod), argmax and one_hot over
// [outer, reduce, inner] views. Two loop shapes: inner == 1 reduces contiguous rows with
// eight independent lanes; inner > 1 accumulates whole rows of `inner` into a tile.
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

template <class Acc>
typename Acc::A reduce_row(const float* x, int64_t n) {
  using A = typename Acc::A;
  A lane[8];
  for (int k = 0; k < 8; ++k) lane[k] = Acc::init();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) Acc::add(lane[k], x[i + k]);
  for (; i < n; ++i) Acc::add(lane[0], x[i]);
  for (int k = 0; k < 4; ++k) Acc::merge(lane[k], lane[k + 4]);
  Acc::merge(lane[0], lane[2]);
  Acc::merge(lane[1], lane[3]);
  Acc::merge(lane[0], lane[1]);
  return lane[0];
}

// acc[0, w) += rows r of x (row stride `stride`), for r in [0, rows).
template <class Acc>
void reduce_cols(typename Acc::A* acc, const float* x, int64_t rows, int64_t stride, int64_t w) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * stride;
    for (int64_t i = 0; i < w; ++i) Acc::add(acc[i], xr[i]);
  }
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
  // chunks whose partial results are merged afterwards.
  int64_t chunks = 1;
  const int threads = cpu::max_threads();
  if (O * R * I > 2 * kGrain && units < threads) {
    int64_t want = (threads + units - 1) / units;
    int64_t most = std::max<int64_t>(1, R * width / kGrain);
    chunks = std::max<int64_t>(1, std::min(want, most));
  }

  // Reduces rows [r0, r1) of unit u into dst (dst[i] for the tile's inner elements).
  auto work = [&](int64_t u, int64_t r0, int64_t r1, A* dst) {
    const int64_t o = u / tiles, i0 = (u % tiles) * kTile, w = std::min(kTile, I - i0);
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
        const int64_t o = u / tiles, i0 = (u % tiles) * kTile, w = std::min(kTile, I - i0);
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
      const int64_t o = u / tiles, i0 = (u % tiles) * kTile, w = std::min(kTile, I - i0);
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

// Note [argmax ties and NaN]: the first maximum wins, and NaN never wins (Eigen's ArgMax,
// which TF uses, compares with `>` from an initial lowest()). A row of only NaN (or -inf)
// gives index 0.
Status CpuBackend::argmax(int32_t* out, const float* in, const ReduceParams& p) {
  CN_RETURN_IF_ERROR(check_view("argmax", p));
  const int64_t O = p.outer, R = p.reduce, I = p.inner;
  if (O * I == 0) return Status::ok();
  if (R == 0) return invalid_argument("argmax: cannot take the argmax of an empty axis");
  if (R > std::numeric_limits<int32_t>::max())
    return invalid_argument("argmax: axis of " + std::to_string(R) + " elements does not fit int32 indices");
  if (!out || !in) return invalid_argument("argmax: null buffer");
  const float lowest = std::numeric_limits<float>::lowest();
  if (I == 1) {
    parallel_for(O, cpu::row_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* x = in + o * R;
        // Two vectorizable passes: the maximum, then its first position.
        float lane[8];
        for (int k = 0; k < 8; ++k) lane[k] = lowest;
        int64_t r = 0;
        for (; r + 8 <= R; r += 8)
          for (int k = 0; k < 8; ++k) lane[k] = x[r + k] > lane[k] ? x[r + k] : lane[k];
        for (; r < R; ++r) lane[0] = x[r] > lane[0] ? x[r] : lane[0];
        float m = lane[0];
        for (int k = 1; k < 8; ++k) m = lane[k] > m ? lane[k] : m;
        int32_t idx = 0;
        if (m > lowest)
          for (int64_t j = 0; j < R; ++j)
            if (x[j] == m) {
              idx = (int32_t)j;
              break;
            }
        out[o] = idx;
      }
    });
    return Status::ok();
  }
  const int64_t tiles = (I + kTile - 1) / kTile;
  parallel_for(O * tiles, cpu::row_grain(R * std::min(I, kTile)), [&](int64_t b, int64_t e) {
    float best[kTile];
    int32_t idx[kTile];
    for (int64_t u = b; u < e; ++u) {
      const int64_t o = u / tiles, i0 = (u % tiles) * kTile, w = std::min(kTile, I - i0);
      for (int64_t i = 0; i < w; ++i) {
        best[i] = lowest;
        idx[i] = 0;
      }
      for (int64_t r = 0; r < R; ++r) {
        const float* xr = in + (o * R + r) * I + i0;
        for (int64_t i = 0; i < w; ++i) {
          const bool gt = xr[i] > best[i];
          best[i] = gt ? xr[i] : best[i];
          idx[i] = gt ? (int32_t)r : idx[i];
        }
      }
      std::copy(idx, idx + w, out + o * I + i0);
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
