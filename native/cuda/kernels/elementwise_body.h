// What each thread of the elementwise kernels does, as host + device code: the scalar
// functions of the unary ops, their gradients and the binary ops (elementwise.cu's float32
// kernels apply them too), and the per-thread loops of the kernels templated on the storage
// type (reduced_elementwise.cu, reduced_layout.cu: bfloat16 / float16 tensors). Each loop covers the items t0, t0 + stride,
// ... of a grid-stride loop, so native/cuda/selftest/host_reduced_test.cc runs these very
// functions on the host, thread by thread, against float64 references.
//
// Note [reduced-precision elementwise]: every typed kernel widens its inputs to float,
// computes in float (the float32 kernels' own functions) and rounds once on store, so a
// bf16 op is the float32 op on the bf16 inputs, rounded: as TensorFlow's GPU kernels compute
// bf16 / fp16 elementwise ops (in float, through Eigen's conversions).
#pragma once
#include <cmath>
#include <cstdint>

#include "half_types.h"
#include "vector_access.h"

namespace cn {
namespace cuda {
namespace k {
namespace ew {

// Order of cn::UnaryOp.
enum { kRelu, kSigmoid, kTanh, kExp, kLog, kNeg, kSqrt, kRsqrt, kSquare, kAbs, kReciprocal,
       kSign, kFloor, kCeil, kRound, kLog1p, kSoftplus, kElu, kSelu, kRelu6, kStep, kSin, kCos };
// Order of cn::UnaryGradOp.
enum { gRelu, gSigmoid, gTanh, gElu, gSelu, gRelu6 };
// Order of cn::BinaryOp.
enum { bAdd, bSub, bMul, bDiv, bMaximum, bMinimum, bPow, bSquaredDifference, bEqual, bNotEqual,
       bGreater, bGreaterEqual, bLess, bLessEqual, bFloorDiv, bMod };

constexpr float kSeluAlpha = 1.6732632423543772f, kSeluScale = 1.0507009873554805f;

CN_HD float rsqrt1(float x) {
#ifdef __CUDA_ARCH__
  return rsqrtf(x);
#else
  return 1.f / sqrtf(x);
#endif
}

CN_HD float apply_unary(int op, float x, float alpha) {
  switch (op) {
    case kRelu: return x > 0.f ? x : 0.f;
    case kSigmoid: return 1.f / (1.f + expf(-x));
    case kTanh: return tanhf(x);
    case kExp: return expf(x);
    case kLog: return logf(x);
    case kNeg: return -x;
    case kSqrt: return sqrtf(x);
    case kRsqrt: return rsqrt1(x);
    case kSquare: return x * x;
    case kAbs: return fabsf(x);
    case kReciprocal: return 1.f / x;
    case kSign: return x > 0.f ? 1.f : (x < 0.f ? -1.f : (x == 0.f ? 0.f : x));
    case kFloor: return floorf(x);
    case kCeil: return ceilf(x);
    case kRound: return rintf(x);  // half to even, as TensorFlow
    case kLog1p: return log1pf(x);
    case kSoftplus: return x > 20.f ? x : log1pf(expf(x));
    case kElu: return x > 0.f ? x : alpha * expm1f(x);
    case kSelu: return x > 0.f ? kSeluScale * x : kSeluScale * kSeluAlpha * expm1f(x);
    case kRelu6: return fminf(fmaxf(x, 0.f), 6.f);
    case kStep: return x > 0.f ? 1.f : (x != x ? x : alpha);
    case kSin: return sinf(x);
    case kCos: return cosf(x);
  }
  return x;
}

CN_HD float apply_unary_grad(int op, float g, float r, float alpha) {
  switch (op) {
    case gRelu: return r > 0.f ? g : 0.f;
    case gSigmoid: return g * r * (1.f - r);
    case gTanh: return g * (1.f - r * r);
    case gElu: return r > 0.f ? g : g * (r + alpha);
    case gSelu: return r > 0.f ? g * kSeluScale : g * (r + kSeluScale * kSeluAlpha);
    case gRelu6: return (r > 0.f && r < 6.f) ? g : 0.f;
  }
  return g;
}

CN_HD float apply_binary(int op, float a, float b) {
  switch (op) {
    case bAdd: return a + b;
    case bSub: return a - b;
    case bMul: return a * b;
    case bDiv: return a / b;
    case bMaximum: return (a != a || b != b) ? a + b : fmaxf(a, b);  // NaN propagates
    case bMinimum: return (a != a || b != b) ? a + b : fminf(a, b);
    case bPow: return powf(a, b);
    case bSquaredDifference: { float d = a - b; return d * d; }
    case bEqual: return a == b ? 1.f : 0.f;
    case bNotEqual: return a != b ? 1.f : 0.f;
    case bGreater: return a > b ? 1.f : 0.f;
    case bGreaterEqual: return a >= b ? 1.f : 0.f;
    case bLess: return a < b ? 1.f : 0.f;
    case bLessEqual: return a <= b ? 1.f : 0.f;
    case bFloorDiv: return floorf(a / b);
    case bMod: {  // floored, result takes the divisor's sign (TensorFlow FloorMod)
      float r = fmodf(a, b);
      return (r != 0.f && ((r < 0.f) != (b < 0.f))) ? r + b : r;
    }
  }
  return 0.f;
}

// ---- typed per-thread loops (reduced_elementwise.cu, reduced_layout.cu)

// out[i] = in[i] converted (float <-> Bf16 / Fp16), items t0, t0 + stride, ... < n.
template <typename To, typename Ti>
CN_HD void cast_thread(To* out, const Ti* in, int64_t n, int64_t t0, int64_t stride) {
  for (int64_t i = t0; i < n; i += stride) out[i] = from_f<To>(to_f(in[i]));
}

template <typename T>
CN_HD void unary_thread(T* y, const T* x, int64_t n, int op, float alpha, int64_t t0, int64_t stride) {
  for (int64_t i = t0; i < n; i += stride) y[i] = from_f<T>(apply_unary(op, to_f(x[i]), alpha));
}

template <typename T>
CN_HD void unary_grad_thread(T* dx, const T* dy, const T* ref, int64_t n, int op, float alpha, int64_t t0,
                             int64_t stride) {
  for (int64_t i = t0; i < n; i += stride)
    dx[i] = from_f<T>(apply_unary_grad(op, to_f(dy[i]), to_f(ref[i]), alpha));
}

// Note [vector 16-bit elementwise]: as Note [float4 elementwise] for float32, a thread that
// moves one 2-byte element leaves too few bytes in flight; where every pointer is aligned for
// four elements (8 bytes for 16-bit types, 16 for float), the unary ops, their gradients,
// casts and same-shape binary ops take four elements per thread (one 8- or 16-byte access
// per operand on the device, vector_access.h) over the vectors t0, t0 + stride, ... < nvec,
// and the scalar loops above take the n % 4 left; each lane computes what the scalar loop
// would, so the results are the same bit for bit.
template <typename T>
CN_HD void unary_vec_thread(T* y, const T* x, int64_t nvec, int op, float alpha, int64_t t0, int64_t stride) {
  for (int64_t v = t0; v < nvec; v += stride) {
    float e[4];
    load<4>(e, x + v * 4);
    for (int j = 0; j < 4; ++j) e[j] = apply_unary(op, e[j], alpha);
    store<4>(y + v * 4, e);
  }
}

template <typename T>
CN_HD void unary_grad_vec_thread(T* dx, const T* dy, const T* ref, int64_t nvec, int op, float alpha, int64_t t0,
                                 int64_t stride) {
  for (int64_t v = t0; v < nvec; v += stride) {
    float g[4], r[4];
    load<4>(g, dy + v * 4);
    load<4>(r, ref + v * 4);
    for (int j = 0; j < 4; ++j) g[j] = apply_unary_grad(op, g[j], r[j], alpha);
    store<4>(dx + v * 4, g);
  }
}

template <typename To, typename Ti>
CN_HD void cast_vec_thread(To* out, const Ti* in, int64_t nvec, int64_t t0, int64_t stride) {
  for (int64_t v = t0; v < nvec; v += stride) {
    float e[4];
    load<4>(e, in + v * 4);
    store<4>(out + v * 4, e);
  }
}

// out = a (op) b where a, b and out all have out's shape (no broadcasting).
template <typename To, typename Ta, typename Tb>
CN_HD void binary_vec_thread(To* out, const Ta* a, const Tb* b, int op, int64_t nvec, int64_t t0, int64_t stride) {
  for (int64_t v = t0; v < nvec; v += stride) {
    float u[4], w[4];
    load<4>(u, a + v * 4);
    load<4>(w, b + v * 4);
    for (int j = 0; j < 4; ++j) u[j] = apply_binary(op, u[j], w[j]);
    store<4>(out + v * 4, u);
  }
}

// The plan fusion's residual join: out = relu(a + b), and its gradient dx = g1 + g2 where
// ref (the join's output) > 0, else 0; one rounding each, so equal bit for bit to add, then
// relu (and to the two gradients added, then masked): rounding keeps the sign.
template <typename T>
CN_HD void add_relu_thread(T* out, const T* a, const T* b, int64_t n, int64_t t0, int64_t stride) {
  for (int64_t i = t0; i < n; i += stride) {
    const float v = to_f(a[i]) + to_f(b[i]);
    out[i] = from_f<T>(v > 0.f ? v : 0.f);
  }
}
template <typename T>
CN_HD void add_relu_grad_thread(T* dx, const T* g1, const T* g2, const T* ref, int64_t n, int64_t t0,
                                int64_t stride) {
  for (int64_t i = t0; i < n; i += stride) {
    const float g = to_f(g1[i]) + to_f(g2[i]);
    dx[i] = from_f<T>(to_f(ref[i]) > 0.f ? g : 0.f);
  }
}

// A broadcast index map (rank <= 8): out's shape and each operand's element strides per
// output axis (0 where it broadcasts). Plain data, passed to kernels by value.
struct Map {
  int rank = 0;
  int64_t shape[8] = {0};
  int64_t a_strides[8] = {0};
  int64_t b_strides[8] = {0};
};

// out[i] = a (op) b over out's n elements, each operand of its own type (one of them may be
// float32 next to a Bf16 / Fp16 one), broadcast through map.
template <typename To, typename Ta, typename Tb>
CN_HD void binary_thread(To* out, const Ta* a, const Tb* b, int op, int64_t n, const Map& map, int64_t t0,
                         int64_t stride) {
  for (int64_t i = t0; i < n; i += stride) {
    int64_t ia = 0, ib = 0, rest = i;
    for (int d = map.rank - 1; d >= 0; --d) {
      const int64_t idx = rest % map.shape[d];
      rest /= map.shape[d];
      ia += idx * map.a_strides[d];
      ib += idx * map.b_strides[d];
    }
    out[i] = from_f<To>(apply_binary(op, to_f(a[ia]), to_f(b[ib])));
  }
}

// y[r, c] = act(in[r, c] + bias[c]) over [rows, cols]: a convolution's or matmul's epilogue,
// which also converts (in of the computing type, y of the output's; in may be y itself).
// bias may be null.
template <typename Ty, typename Tin, typename Tb>
CN_HD void bias_act_thread(Ty* y, const Tin* in, const Tb* bias, int64_t n, int64_t cols, bool relu, int64_t t0,
                           int64_t stride) {
  for (int64_t i = t0; i < n; i += stride) {
    float v = to_f(in[i]) + (bias ? to_f(bias[i % cols]) : 0.f);
    if (relu && v < 0.f) v = 0.f;
    y[i] = from_f<Ty>(v);
  }
}

// out [cols, rows] = in [rows, cols] transposed (the filter relayouts HWIO <-> KRSC, Note
// [filter layout] in ../conv.cc), converting Ti to To on the way.
template <typename To, typename Ti>
CN_HD void transpose_thread(To* out, const Ti* in, int64_t rows, int64_t cols, int64_t t0, int64_t stride) {
  const int64_t n = rows * cols;
  for (int64_t i = t0; i < n; i += stride) {
    const int64_t c = i / rows, r = i - c * rows;  // out[c, r]
    out[i] = from_f<To>(to_f(in[r * cols + c]));
  }
}

// NHWC windows of 16-bit elements (Note [asymmetric padding] in ../conv.cc): the big tensor
// [n, bh, bw, c] holds the small one [n, sh, sw, c] at rows top.., columns left... pad: writes
// every element of big (zero outside the small one); crop: writes small from big.
struct Window {
  int64_t n, c, bh, bw, sh, sw, top, left;
};
CN_HD void pad_thread(uint16_t* big, const uint16_t* small, const Window& w, int64_t t0, int64_t stride) {
  const int64_t total = w.n * w.bh * w.bw * w.c;
  for (int64_t i = t0; i < total; i += stride) {
    int64_t rest = i / w.c;
    const int64_t ch = i - rest * w.c;
    const int64_t x = rest % w.bw;
    rest /= w.bw;
    const int64_t y = rest % w.bh, n = rest / w.bh;
    const int64_t sy = y - w.top, sx = x - w.left;
    big[i] = sy >= 0 && sy < w.sh && sx >= 0 && sx < w.sw ? small[((n * w.sh + sy) * w.sw + sx) * w.c + ch] : 0;
  }
}
CN_HD void crop_thread(uint16_t* small, const uint16_t* big, const Window& w, int64_t t0, int64_t stride) {
  const int64_t total = w.n * w.sh * w.sw * w.c;
  for (int64_t i = t0; i < total; i += stride) {
    int64_t rest = i / w.c;
    const int64_t ch = i - rest * w.c;
    const int64_t x = rest % w.sw;
    rest /= w.sw;
    const int64_t y = rest % w.sh, n = rest / w.sh;
    small[i] = big[((n * w.bh + y + w.top) * w.bw + x + w.left) * w.c + ch];
  }
}

}  // namespace ew
}  // namespace k
}  // namespace cuda
}  // namespace cn
