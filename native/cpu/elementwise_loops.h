// Loop helpers shared by the cpu elementwise files (elementwise.cc, binary.cc): the map
// loops every unary and same-shape kernel runs through, and the rounding functions written
// so that those loops vectorize. Header-only, internal to native/cpu.
#pragma once
#include <cmath>
#include <cstdint>

#include "parallel.h"

namespace cn {
namespace cpu {

inline constexpr float kSeluAlpha = 1.6732632423543772f;
inline constexpr float kSeluScale = 1.0507009873554805f;

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
void map1(float* y, const float* x, int64_t n, int64_t grain, F f) {
  parallel_for(n, grain, [=](int64_t b, int64_t e) { map1_kernel(y, x, b, e, f); });
}

template <class F>
void map2(float* y, const float* a, const float* b, int64_t n, int64_t grain, F f) {
  parallel_for(n, grain, [=](int64_t s, int64_t e) { map2_kernel(y, a, b, s, e, f); });
}

template <class F>
void map3(float* y, const float* a, const float* b, const float* c, int64_t n, int64_t grain, F f) {
  parallel_for(n, grain, [=](int64_t s, int64_t e) { map3_kernel(y, a, b, c, s, e, f); });
}

}  // namespace cpu
}  // namespace cn
