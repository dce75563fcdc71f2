// binary.cc: CpuBackend::binary, the broadcasting binary ops on float32 and int32 (Note
// [broadcast collapse], Note [integer arithmetic]). Plain loops the compiler vectorizes at
// -O3, split across OpenMP threads only when large (parallel.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "cpu_backend.h"
#include "elementwise_loops.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::floor_f;
using cpu::kGrain;
using cpu::kGrainHeavy;
using cpu::parallel_for;

// ---- binary broadcasting

// Note [broadcast collapse]: before the generic walk we drop size-1 output axes and merge
// adjacent axes along which both operands are "contiguous together" (stride[k] ==
// stride[k+1] * extent[k+1], which also merges runs of broadcast axes with stride 0). The
// bias-add case [.., C] + [C] becomes rows x C with a full row of b reused per row, and
// [N, 1] * [1, C] becomes N rows of a scalar times a full row; the inner loop then only
// sees unit or zero strides, which vectorize.
struct Collapsed {
  int rank = 0;
  int64_t ext[kMaxRank], sa[kMaxRank], sb[kMaxRank];
};

inline Collapsed collapse(const BroadcastParams& p) {
  Collapsed c;
  for (int k = 0; k < p.rank; ++k) {
    int64_t d = p.out_shape[k];
    if (d == 1) continue;
    if (c.rank > 0 && c.sa[c.rank - 1] == p.a_strides[k] * d &&
        c.sb[c.rank - 1] == p.b_strides[k] * d) {
      c.ext[c.rank - 1] *= d;
      c.sa[c.rank - 1] = p.a_strides[k];
      c.sb[c.rank - 1] = p.b_strides[k];
    } else {
      c.ext[c.rank] = d;
      c.sa[c.rank] = p.a_strides[k];
      c.sb[c.rank] = p.b_strides[k];
      ++c.rank;
    }
  }
  if (c.rank == 0) {
    c.rank = 1;
    c.ext[0] = 1;
    c.sa[0] = c.sb[0] = 0;
  }
  return c;
}

// One contiguous run of m outputs; after the collapse the inner strides are 0 or 1.
template <class T, class F>
void binary_kernel(T* po, const T* pa, const T* pb, int64_t m, int64_t ia, int64_t ib, F f) {
  if (ia == 1 && ib == 1) {
    for (int64_t j = 0; j < m; ++j) po[j] = f(pa[j], pb[j]);
  } else if (ia == 1 && ib == 0) {
    const T bv = pb[0];
    for (int64_t j = 0; j < m; ++j) po[j] = f(pa[j], bv);
  } else if (ia == 0 && ib == 1) {
    const T av = pa[0];
    for (int64_t j = 0; j < m; ++j) po[j] = f(av, pb[j]);
  } else {
    for (int64_t j = 0; j < m; ++j) po[j] = f(pa[j * ia], pb[j * ib]);
  }
}

// rows x len output where row r of a starts at r * sa0 (likewise b), for outputs [s, e).
template <class T, class F>
void binary_rows(T* out, const T* a, const T* b, int64_t s, int64_t e, int64_t len, int64_t sa0,
                 int64_t sb0, int64_t ia, int64_t ib, F f) {
  int64_t row = 0, c0 = 0;
  if (s > 0) {
    row = s / len;
    c0 = s - row * len;
  }
  for (int64_t i = s; i < e; ++row) {
    const int64_t m = std::min(len - c0, e - i);
    binary_kernel(out + i, a + row * sa0 + c0 * ia, b + row * sb0 + c0 * ib, m, ia, ib, f);
    i += m;
    c0 = 0;
  }
}

template <class T, class F>
void run_binary(T* out, const T* a, const T* b, const BroadcastParams& p, int64_t grain, F f) {
  const int64_t n = p.size;
  if (n <= 0) return;
  if (p.same_shape || (p.a_scalar && p.b_scalar)) {
    if (n == 1) {  // the 1-element case skips even the range split
      out[0] = f(a[0], b[0]);
      return;
    }
    parallel_for(n, grain, [=](int64_t s, int64_t e) {
      binary_kernel(out + s, a + s, b + s, e - s, 1, 1, f);
    });
    return;
  }
  if (p.b_scalar) {  // a has all of out's elements, in order
    parallel_for(n, grain, [=](int64_t s, int64_t e) {
      binary_kernel(out + s, a + s, b, e - s, 1, 0, f);
    });
    return;
  }
  if (p.a_scalar) {
    parallel_for(n, grain, [=](int64_t s, int64_t e) {
      binary_kernel(out + s, a, b + s, e - s, 0, 1, f);
    });
    return;
  }
  const Collapsed c = collapse(p);
  const int r = c.rank;
  const int64_t len = c.ext[r - 1], ia = c.sa[r - 1], ib = c.sb[r - 1];
  if (r <= 2) {  // rows x len: bias add, row/column broadcasts; no index walker needed
    const int64_t sa0 = r == 2 ? c.sa[0] : 0, sb0 = r == 2 ? c.sb[0] : 0;
    parallel_for(n, grain, [=](int64_t s, int64_t e) {
      binary_rows(out, a, b, s, e, len, sa0, sb0, ia, ib, f);
    });
    return;
  }
  cpu::RowWalker w;
  w.rank = r - 1;
  w.nops = 2;
  for (int k = 0; k < r - 1; ++k) {
    w.extent[k] = c.ext[k];
    w.stride[0][k] = c.sa[k];
    w.stride[1][k] = c.sb[k];
  }
  cpu::parallel_rows(w, n / len, len, grain, [=](const cpu::RowWalker& it, int64_t row, int64_t c0,
                                                 int64_t c1) {
    binary_kernel(out + row * len + c0, a + it.off[0] + c0 * ia, b + it.off[1] + c0 * ib, c1 - c0,
                  ia, ib, f);
  });
}

// Note [integer arithmetic]: int32 add/sub/mul wrap (computed in uint32, as TF does on
// every platform in practice) instead of hitting signed-overflow UB. Division by zero and
// INT_MIN / -1 would trap (SIGFPE) and abort the process; we define x / 0 == x % 0 == 0
// (TF's CPU kernel raises, its GPU kernel returns garbage) and let INT_MIN / -1 wrap.
CN_INLINE int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
CN_INLINE int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
CN_INLINE int32_t wrap_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

CN_INLINE int32_t floor_div_i32(int32_t x, int32_t y) {
  if (y == 0) return 0;
  if (y == -1) return wrap_sub(0, x);
  int32_t q = x / y, r = x % y;
  return (r != 0 && ((r < 0) != (y < 0))) ? q - 1 : q;
}
CN_INLINE int32_t floor_mod_i32(int32_t x, int32_t y) {
  if (y == 0 || y == -1) return 0;
  int32_t r = x % y;
  return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}
// Negative exponents give what truncating the real power toward zero gives (tfjs casts
// Math.pow's result); TF raises instead.
CN_INLINE int32_t pow_i32(int32_t base, int32_t e) {
  if (e < 0) {
    if (base == 1) return 1;
    if (base == -1) return (e & 1) ? -1 : 1;
    return 0;
  }
  uint32_t r = 1, b = (uint32_t)base;
  for (uint32_t k = (uint32_t)e; k; k >>= 1) {
    if (k & 1) r *= b;
    b *= b;
  }
  return (int32_t)r;
}
// TF FloorMod for floats: the remainder takes the divisor's sign.
CN_INLINE float floor_mod_f32(float x, float y) {
  float r = std::fmod(x, y);
  return (r != 0.0f && ((y < 0.0f) != (r < 0.0f))) ? r + y : r;
}

// Runs op f(x, y) over the broadcast; G is the grain (kGrain, or kGrainHeavy for libm calls).
#define CN_BINARY(G, expr) run_binary(out, a, b, p, G, [=](T x, T y) { return expr; })

template <class T>
void dispatch_binary(T* out, const T* a, const T* b, BinaryOp op, const BroadcastParams& p) {
  constexpr bool kInt = std::is_integral<T>::value;
  switch (op) {
    case BinaryOp::kAdd:
      if constexpr (kInt) return CN_BINARY(kGrain, wrap_add(x, y));
      else return CN_BINARY(kGrain, x + y);
    case BinaryOp::kSub:
      if constexpr (kInt) return CN_BINARY(kGrain, wrap_sub(x, y));
      else return CN_BINARY(kGrain, x - y);
    case BinaryOp::kMul:
      if constexpr (kInt) return CN_BINARY(kGrain, wrap_mul(x, y));
      else return CN_BINARY(kGrain, x * y);
    case BinaryOp::kDiv:  // int32 division floors, like tfjs div on int32 tensors
      if constexpr (kInt) return CN_BINARY(kGrain, floor_div_i32(x, y));
      else return CN_BINARY(kGrain, x / y);
    case BinaryOp::kFloorDiv:
      if constexpr (kInt) return CN_BINARY(kGrain, floor_div_i32(x, y));
      else return CN_BINARY(kGrain, floor_f(x / y));
    case BinaryOp::kMod:
      if constexpr (kInt) return CN_BINARY(kGrain, floor_mod_i32(x, y));
      else return CN_BINARY(kGrainHeavy, floor_mod_f32(x, y));
    case BinaryOp::kPow:
      if constexpr (kInt) return CN_BINARY(kGrainHeavy, pow_i32(x, y));
      else return CN_BINARY(kGrainHeavy, std::pow(x, y));
    case BinaryOp::kSquaredDifference:
      if constexpr (kInt) return CN_BINARY(kGrain, wrap_mul(wrap_sub(x, y), wrap_sub(x, y)));
      else return CN_BINARY(kGrain, (x - y) * (x - y));
    // Note [NaN in maximum/minimum]: a NaN in either operand gives NaN, as TF 2.x does.
    case BinaryOp::kMaximum: return CN_BINARY(kGrain, (x > y || x != x) ? x : y);
    case BinaryOp::kMinimum: return CN_BINARY(kGrain, (x < y || x != x) ? x : y);
    case BinaryOp::kEqual: return CN_BINARY(kGrain, x == y ? T(1) : T(0));
    case BinaryOp::kNotEqual: return CN_BINARY(kGrain, x != y ? T(1) : T(0));
    case BinaryOp::kGreater: return CN_BINARY(kGrain, x > y ? T(1) : T(0));
    case BinaryOp::kGreaterEqual: return CN_BINARY(kGrain, x >= y ? T(1) : T(0));
    case BinaryOp::kLess: return CN_BINARY(kGrain, x < y ? T(1) : T(0));
    case BinaryOp::kLessEqual: return CN_BINARY(kGrain, x <= y ? T(1) : T(0));
  }
}
#undef CN_BINARY

bool valid_binary_op(BinaryOp op) {
  return (int)op >= (int)BinaryOp::kAdd && (int)op <= (int)BinaryOp::kMod;
}

}  // namespace

Status CpuBackend::binary(void* out, const void* a, const void* b, DType dtype, BinaryOp op,
                          const BroadcastParams& p) {
  if (p.size == 0) return Status::ok();
  if (p.rank < 0 || p.rank > kMaxRank || p.size < 0)
    return invalid_argument("binary: invalid broadcast parameters (rank " +
                            std::to_string(p.rank) + ")");
  if (!out || !a || !b) return invalid_argument("binary: null buffer");
  if (!valid_binary_op(op))
    return invalid_argument("binary: unknown op " + std::to_string((int)op));
  switch (dtype) {
    case DType::kFloat32:
      dispatch_binary(static_cast<float*>(out), static_cast<const float*>(a),
                      static_cast<const float*>(b), op, p);
      return Status::ok();
    case DType::kInt32:
      dispatch_binary(static_cast<int32_t*>(out), static_cast<const int32_t*>(a),
                      static_cast<const int32_t*>(b), op, p);
      return Status::ok();
    default:
      return invalid_argument(std::string("binary: dtype ") + dtype_name(dtype) +
                              " is not supported (expected float32 or int32)");
  }
}

}  // namespace cn
