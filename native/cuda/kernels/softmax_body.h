// What each lane of the typed softmax kernels does (reduced_layout.cu: one warp per row of
// [rows, cols], bfloat16 / float16 storage), as host + device code: a row's work is split
// into phases between warp reductions (max, sum of exponentials, write; or the dot product,
// then dx), each phase a function of the lane. The kernel reduces each phase's 32 lane
// results with warp shuffles; native/cuda/selftest/host_reduced_test.cc calls the same
// phases for 32 lanes and reduces them itself, against a float64 softmax.
//
// Note [softmax in float]: the inputs are widened to float, the max, the sum of exponentials
// and the dot product of the backward are float (per lane, then over the warp), and each
// output is rounded once to its type; y may be float32 next to a bf16 x (attr outDtype:
// Keras computes the last softmax and the loss in float32 under mixed precision).
#pragma once
#include <cmath>
#include <cstdint>

#include "half_types.h"
#include "vector_access.h"

namespace cn {
namespace cuda {
namespace k {
namespace sm {

// This lane's max over columns lane, lane + lanes, ... (-inf if it has none).
template <typename T>
CN_HD float lane_max(const T* x, int64_t cols, int lane, int lanes) {
  float m = -INFINITY;
  for (int64_t j = lane; j < cols; j += lanes) m = fmaxf(m, to_f(x[j]));
  return m;
}

// This lane's sum of exp(x - m) (m: the row's max).
template <typename T>
CN_HD float lane_sum_exp(const T* x, int64_t cols, int lane, int lanes, float m) {
  float s = 0.f;
  for (int64_t j = lane; j < cols; j += lanes) s += expf(to_f(x[j]) - m);
  return s;
}

// y = exp(x - m) / s, or log-softmax x - (m + log s), this lane's columns.
template <typename To, typename Ti>
CN_HD void lane_write(To* y, const Ti* x, int64_t cols, int lane, int lanes, float m, float s, bool log) {
  if (log) {
    const float lse = m + logf(s);
    for (int64_t j = lane; j < cols; j += lanes) y[j] = from_f<To>(to_f(x[j]) - lse);
  } else {
    const float inv = 1.f / s;
    for (int64_t j = lane; j < cols; j += lanes) y[j] = from_f<To>(expf(to_f(x[j]) - m) * inv);
  }
}

// The backward's row sum, this lane's part: sum(dy * y) (softmax) or sum(dy) (log-softmax).
template <typename T>
CN_HD float lane_dot(const T* dy, const T* y, int64_t cols, int lane, int lanes, bool log) {
  float acc = 0.f;
  for (int64_t j = lane; j < cols; j += lanes) acc += log ? to_f(dy[j]) : to_f(dy[j]) * to_f(y[j]);
  return acc;
}

// softmax: dx = y * (dy - acc); log-softmax: dx = dy - exp(y) * acc (acc: the row sum).
template <typename T>
CN_HD void lane_grad(T* dx, const T* dy, const T* y, int64_t cols, int lane, int lanes, float acc, bool log) {
  for (int64_t j = lane; j < cols; j += lanes) {
    const float g = to_f(dy[j]), v = to_f(y[j]);
    dx[j] = from_f<T>(log ? g - expf(v) * acc : v * (g - acc));
  }
}

}  // namespace sm
}  // namespace k
}  // namespace cuda
}  // namespace cn
