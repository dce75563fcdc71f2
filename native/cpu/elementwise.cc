// elementwise.cc: CpuBackend unary, unary_grad, binary (with broadcasting), select, cast and
// fill. Plain loops the compiler vectorizes at -O3 (no -march, no -ffast-math), split across
// OpenMP threads only when large (parallel.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::kGrain;
using cpu::kGrainHeavy;
using cpu::parallel_for;

constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;

// Note [rounding without SSE4.1]: std::floor/ceil/nearbyint compile to libm calls on the
// baseline x86-64 target (roundps needs SSE4.1), which blocks vectorization. For |x| < 2^23,
// (|x| + 2^23) - 2^23 rounds to an integer with ties to even (the default rounding mode);
// larger magnitudes (and inf/NaN) are already integral, and adding k = 0 passes them
// through. The compiler may not fold the add/sub pair because we never build with
// -ffast-math. Choosing k by a select between constants (rather than selecting the result)
// keeps the loop branch-free, so it vectorizes under the default -ftrapping-math.
CN_INLINE float round_half_even(float x) {
  const float a = std::fabs(x);
  const float k = a < 8388608.0f ? 8388608.0f : 0.0f;
  return std::copysign((a + k) - k, x);
}
CN_INLINE float ceil_f(float x) {
  const float r = round_half_even(x);
  return r + (r < x ? 1.0f : 0.0f);
}
// floor(x) = -ceil(-x); GCC 12 vectorizes this form but not r - (r > x ? 1 : 0).
CN_INLINE float floor_f(float x) { return -ceil_f(-x); }

// Note [float to int]: C++ leaves out-of-range float->int conversion undefined. We truncate
// toward zero like TF, send NaN to 0 and saturate at the int32 limits; uint8 then wraps
// modulo 256 as TF's static_cast does on x86 (tf.cast(300., tf.uint8) == 44).
CN_INLINE int32_t float_to_i32(float x) {
  return x != x ? 0
         : x >= 2147483648.0f  ? std::numeric_limits<int32_t>::max()
         : x <= -2147483648.0f ? std::numeric_limits<int32_t>::min()
                               : (int32_t)x;
}
inline int32_t double_to_i32(double x) {
  if (x != x) return 0;
  if (x >= 2147483647.0) return std::numeric_limits<int32_t>::max();
  if (x <= -2147483648.0) return std::numeric_limits<int32_t>::min();
  return (int32_t)x;
}

// Note [loops in leaf functions]: every hot loop lives in a function that takes its
// pointers, scalars and functor by value. Written directly inside a [&] lambda, GCC must
// reload the captured values on every iteration (a store through the output pointer might
// change them) and gives up on vectorizing.
template <class F>
void map1_kernel(float* y, const float* x, int64_t b, int64_t e, F f) {
  for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
}
template <class F>
void map2_kernel(float* y, const float* a, const float* c, int64_t b, int64_t e, F f) {
  for (int64_t i = b; i < e; ++i) y[i] = f(a[i], c[i]);
}

template <class F>
void map3_kernel(float* y, const float* a, const float* c, const float* d, int64_t b, int64_t e, F f) {
  for (int64_t i = b; i < e; ++i) y[i] = f(a[i], c[i], d[i]);
}

template <class F>
inline void map1(float* y, const float* x, int64_t n, int64_t grain, F f) {
  parallel_for(n, grain, [=](int64_t b, int64_t e) { map1_kernel(y, x, b, e, f); });
}

template <class F>
inline void map2(float* y, const float* a, const float* b, int64_t n, int64_t grain, F f) {
  parallel_for(n, grain, [=](int64_t s, int64_t e) { map2_kernel(y, a, b, s, e, f); });
}

template <class F>
inline void map3(float* y, const float* a, const float* b, const float* c, int64_t n, int64_t grain, F f) {
  parallel_for(n, grain, [=](int64_t s, int64_t e) { map3_kernel(y, a, b, c, s, e, f); });
}

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

Status CpuBackend::unary(float* y, const float* x, int64_t n, UnaryOp op, float alpha) {
  if (n < 0) return invalid_argument("unary: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok();
  if (!y || !x) return invalid_argument("unary: null buffer");
  switch (op) {
    // Note [relu and NaN]: relu keeps NaN (x < 0 ? 0 : x) so a diverging model shows NaN
    // instead of silently producing zeros.
    case UnaryOp::kRelu: map1(y, x, n, kGrain, [](float v) { return v < 0.0f ? 0.0f : v; }); break;
    case UnaryOp::kSigmoid:
      // exp(-v) overflows to inf for v < -88, giving exactly 0: no NaN at either end.
      map1(y, x, n, kGrainHeavy, [](float v) { return 1.0f / (1.0f + cpu::exp_f(-v)); });
      break;
    case UnaryOp::kTanh: map1(y, x, n, kGrainHeavy, [](float v) { return cpu::tanh_f(v); }); break;
    case UnaryOp::kExp: map1(y, x, n, kGrainHeavy, [](float v) { return cpu::exp_f(v); }); break;
    case UnaryOp::kLog: map1(y, x, n, kGrainHeavy, [](float v) { return std::log(v); }); break;
    case UnaryOp::kNeg: map1(y, x, n, kGrain, [](float v) { return -v; }); break;
    case UnaryOp::kSqrt: map1(y, x, n, kGrain, [](float v) { return std::sqrt(v); }); break;
    case UnaryOp::kRsqrt: map1(y, x, n, kGrain, [](float v) { return 1.0f / std::sqrt(v); }); break;
    case UnaryOp::kSquare: map1(y, x, n, kGrain, [](float v) { return v * v; }); break;
    case UnaryOp::kAbs: map1(y, x, n, kGrain, [](float v) { return std::fabs(v); }); break;
    case UnaryOp::kReciprocal: map1(y, x, n, kGrain, [](float v) { return 1.0f / v; }); break;
    case UnaryOp::kSign:
      // (v > 0) - (v < 0), NaN kept; only selects of constants or of v, so it vectorizes.
      map1(y, x, n, kGrain, [](float v) {
        const float t = (v > 0.0f ? 1.0f : 0.0f) - (v < 0.0f ? 1.0f : 0.0f);
        return v == v ? t : v;
      });
      break;
    case UnaryOp::kFloor: map1(y, x, n, kGrain, [](float v) { return floor_f(v); }); break;
    case UnaryOp::kCeil: map1(y, x, n, kGrain, [](float v) { return ceil_f(v); }); break;
    case UnaryOp::kRound: map1(y, x, n, kGrain, [](float v) { return round_half_even(v); }); break;
    case UnaryOp::kLog1p: map1(y, x, n, kGrainHeavy, [](float v) { return std::log1p(v); }); break;
    case UnaryOp::kSoftplus:
      // max(v, 0) + log1p(exp(-|v|)): exact for large |v|, no overflow anywhere.
      map1(y, x, n, kGrainHeavy, [](float v) {
        return (v > 0.0f ? v : 0.0f) + std::log1p(std::exp(-std::fabs(v)));
      });
      break;
    case UnaryOp::kElu:
      map1(y, x, n, kGrainHeavy, [alpha](float v) { return v > 0.0f ? v : alpha * std::expm1(v); });
      break;
    case UnaryOp::kSelu:
      map1(y, x, n, kGrainHeavy, [](float v) {
        return v > 0.0f ? kSeluScale * v : (kSeluScale * kSeluAlpha) * std::expm1(v);
      });
      break;
    case UnaryOp::kRelu6:
      map1(y, x, n, kGrain, [](float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); });
      break;
    case UnaryOp::kStep:
      map1(y, x, n, kGrain, [](float v) { return v > 0.0f ? 1.0f : (v != v ? v : 0.0f); });
      break;  // NaN stays NaN, as in tfjs
    case UnaryOp::kSin: map1(y, x, n, kGrainHeavy, [](float v) { return std::sin(v); }); break;
    case UnaryOp::kCos: map1(y, x, n, kGrainHeavy, [](float v) { return std::cos(v); }); break;
    default: return invalid_argument("unary: unknown op " + std::to_string((int)op));
  }
  return Status::ok();
}

Status CpuBackend::unary_grad(float* dx, const float* dy, const float* ref, int64_t n,
                              UnaryGradOp op, float alpha) {
  if (n < 0) return invalid_argument("unary_grad: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok();
  if (!dx || !dy || !ref) return invalid_argument("unary_grad: null buffer");
  // ref is the forward output y for every op here (see backend.h).
  // Note [branch-free gradients]: GCC will not vectorize a loop where an arm of a ?: does
  // floating-point work (it may trap), and rewrites dy * (c ? 1 : 0) into such a branch. So
  // the masks below are blended arithmetically (p = 0 or 1), or select dy itself.
  switch (op) {
    case UnaryGradOp::kRelu:  // dy where y > 0; a NaN dy at y <= 0 gives 0
      map2(dx, dy, ref, n, kGrain, [](float g, float y) { return y > 0.0f ? g : 0.0f; });
      break;
    case UnaryGradOp::kSigmoid:
      map2(dx, dy, ref, n, kGrain, [](float g, float y) { return g * y * (1.0f - y); });
      break;
    case UnaryGradOp::kTanh:
      map2(dx, dy, ref, n, kGrain, [](float g, float y) { return g * (1.0f - y * y); });
      break;
    case UnaryGradOp::kElu:  // y > 0 ? dy : dy * (y + alpha)
      map2(dx, dy, ref, n, kGrain, [alpha](float g, float y) {
        const float p = y > 0.0f ? 1.0f : 0.0f;
        return g * (p + (1.0f - p) * (y + alpha));
      });
      break;
    case UnaryGradOp::kSelu:
      // For x <= 0, y = s*a*(e^x - 1) so dy/dx = s*a*e^x = y + s*a; for x > 0 it is s.
      map2(dx, dy, ref, n, kGrain, [](float g, float y) {
        const float p = y > 0.0f ? 1.0f : 0.0f;
        return g * (p * kSeluScale + (1.0f - p) * (y + kSeluScale * kSeluAlpha));
      });
      break;
    case UnaryGradOp::kRelu6:
      map2(dx, dy, ref, n, kGrain, [](float g, float y) {
        return g * ((y > 0.0f ? 1.0f : 0.0f) * (y < 6.0f ? 1.0f : 0.0f));
      });
      break;
    default: return invalid_argument("unary_grad: unknown op " + std::to_string((int)op));
  }
  return Status::ok();
}

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

Status CpuBackend::add_relu(float* out, const float* a, const float* b, int64_t n) {
  if (n < 0) return invalid_argument("add_relu: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok();
  if (!out || !a || !b) return invalid_argument("add_relu: null buffer");
  map2(out, a, b, n, kGrain, [](float u, float v) {
    const float s = u + v;
    return s < 0.0f ? 0.0f : s;  // as the Relu kernel (NaN and -0 pass through)
  });
  return Status::ok();
}

Status CpuBackend::add_relu_grad(float* dx, const float* g1, const float* g2, const float* ref,
                                 int64_t n) {
  if (n < 0) return invalid_argument("add_relu_grad: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok();
  if (!dx || !g1 || !g2 || !ref) return invalid_argument("add_relu_grad: null buffer");
  // Note [bit selects]: with `y > 0 ? a + b : 0` GCC moved the add into one arm and kept a
  // data-dependent branch (20x slower at [8,56,56,64] than the vectorized select).
  map3(dx, g1, g2, ref, n, kGrain,
       [](float a, float b, float y) { return cpu::bits_select(y > 0.0f, a + b, 0.0f); });
  return Status::ok();
}

namespace {
// Both operands are loaded unconditionally: a conditional load cannot be if-converted.
void select_kernel(float* out, const float* cond, const float* a, const float* b, int64_t s,
                   int64_t e) {
  for (int64_t i = s; i < e; ++i) {
    const float av = a[i], bv = b[i];
    out[i] = cond[i] != 0.0f ? av : bv;
  }
}
}  // namespace

Status CpuBackend::select(float* out, const float* cond, const float* a, const float* b,
                          int64_t n) {
  if (n < 0) return invalid_argument("select: negative element count " + std::to_string(n));
  if (n == 0) return Status::ok();
  if (!out || !cond || !a || !b) return invalid_argument("select: null buffer");
  parallel_for(n, kGrain, [=](int64_t s, int64_t e) { select_kernel(out, cond, a, b, s, e); });
  return Status::ok();
}

namespace {

template <class To, class From, class F>
void convert_kernel(To* o, const From* x, int64_t s, int64_t e, F f) {
  for (int64_t i = s; i < e; ++i) o[i] = f(x[i]);
}

template <class To, class From, class F>
void convert(void* out, const void* in, int64_t n, F f) {
  To* o = static_cast<To*>(out);
  const From* x = static_cast<const From*>(in);
  parallel_for(n, kGrain, [=](int64_t s, int64_t e) { convert_kernel(o, x, s, e, f); });
}

bool known_dtype(DType d) {
  return d == DType::kFloat32 || d == DType::kInt32 || d == DType::kUint8;
}

}  // namespace

Status CpuBackend::cast(void* out, DType out_dtype, const void* in, DType in_dtype, int64_t n) {
  if (n < 0) return invalid_argument("cast: negative element count " + std::to_string(n));
  if (!known_dtype(out_dtype) || !known_dtype(in_dtype))
    return invalid_argument("cast: unknown dtype " +
                            std::to_string((int)(known_dtype(out_dtype) ? in_dtype : out_dtype)));
  if (n == 0) return Status::ok();
  if (!out || !in) return invalid_argument("cast: null buffer");
  if (out_dtype == in_dtype) {
    if (out != in) std::memmove(out, in, (size_t)n * dtype_size(in_dtype));
    return Status::ok();
  }
  // Note [in-place cast]: float32 <-> int32 may run in place (same element size); each
  // element is read before it is written. uint8 conversions need distinct buffers.
  using u8 = uint8_t;
  if (in_dtype == DType::kFloat32 && out_dtype == DType::kInt32)
    convert<int32_t, float>(out, in, n, [](float v) { return float_to_i32(v); });
  else if (in_dtype == DType::kFloat32 && out_dtype == DType::kUint8)
    convert<u8, float>(out, in, n, [](float v) { return (u8)(uint32_t)float_to_i32(v); });
  else if (in_dtype == DType::kInt32 && out_dtype == DType::kFloat32)
    convert<float, int32_t>(out, in, n, [](int32_t v) { return (float)v; });
  else if (in_dtype == DType::kInt32 && out_dtype == DType::kUint8)
    convert<u8, int32_t>(out, in, n, [](int32_t v) { return (u8)(uint32_t)v; });
  else if (in_dtype == DType::kUint8 && out_dtype == DType::kFloat32)
    convert<float, u8>(out, in, n, [](u8 v) { return (float)v; });
  else  // uint8 -> int32
    convert<int32_t, u8>(out, in, n, [](u8 v) { return (int32_t)v; });
  return Status::ok();
}

Status CpuBackend::fill(void* out, DType dtype, double value, int64_t n) {
  if (n < 0) return invalid_argument("fill: negative element count " + std::to_string(n));
  if (!known_dtype(dtype))
    return invalid_argument("fill: unknown dtype " + std::to_string((int)dtype));
  if (n == 0) return Status::ok();
  if (!out) return invalid_argument("fill: null buffer");
  switch (dtype) {
    case DType::kFloat32: {
      float* o = static_cast<float*>(out);
      const float v = (float)value;
      parallel_for(n, kGrain, [&](int64_t s, int64_t e) { std::fill(o + s, o + e, v); });
      break;
    }
    case DType::kInt32: {
      int32_t* o = static_cast<int32_t*>(out);
      const int32_t v = double_to_i32(value);
      parallel_for(n, kGrain, [&](int64_t s, int64_t e) { std::fill(o + s, o + e, v); });
      break;
    }
    case DType::kUint8: {
      const uint8_t v = (uint8_t)(uint32_t)double_to_i32(value);
      uint8_t* o = static_cast<uint8_t*>(out);
      parallel_for(n, kGrain * 4,
                   [=](int64_t s, int64_t e) { std::memset(o + s, v, (size_t)(e - s)); });
      break;
    }
  }
  return Status::ok();
}

}  // namespace cn
