// elementwise.cc: CpuBackend unary, unary_grad, the fused add + relu and its gradient, and
// select: same-shape elementwise ops as plain loops the compiler vectorizes at -O3 (no
// -march, no -ffast-math), split across OpenMP threads only when large (parallel.h). The
// broadcasting binary ops are in binary.cc, cast and fill in cast_fill.cc.
#include <cmath>
#include <cstdint>
#include <string>

#include "cpu_backend.h"
#include "elementwise_loops.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::ceil_f;
using cpu::floor_f;
using cpu::kGrain;
using cpu::kGrainHeavy;
using cpu::kSeluAlpha;
using cpu::kSeluScale;
using cpu::map1;
using cpu::map2;
using cpu::map3;
using cpu::parallel_for;
using cpu::round_half_even;

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

}  // namespace cn
