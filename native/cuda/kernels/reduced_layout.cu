// Kernels on bfloat16 / float16 storage (declared in reduced_kernels.h) that move data or
// reduce rows: the filter relayout with conversion, 16-bit padding and cropping for the
// convolutions' explicit padding, and softmax / log-softmax and their gradients (one warp
// per row, Note [softmax in float] in softmax_body.h). Kept apart from
// reduced_elementwise.cu so that the two compile in parallel.
#include "common.cuh"
#include "elementwise_body.h"
#include "reduced_kernels.h"
#include "softmax_body.h"
#include "typed_dispatch.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

template <typename To, typename Ti>
__global__ void transpose_kernel(To* out, const Ti* in, int64_t rows, int64_t cols) {
  ew::transpose_thread<To, Ti>(out, in, rows, cols, CN_THREAD0, CN_STRIDE);
}

__global__ void pad16_kernel(uint16_t* big, const uint16_t* small, ew::Window w) {
  ew::pad_thread(big, small, w, CN_THREAD0, CN_STRIDE);
}
__global__ void crop16_kernel(uint16_t* small, const uint16_t* big, ew::Window w) {
  ew::crop_thread(small, big, w, CN_THREAD0, CN_STRIDE);
}

// One warp per row (as softmax.cu's float32 kernels).
constexpr int kRowsPerBlock = kThreads / 32;
__device__ __forceinline__ int64_t warp_row() { return (int64_t)blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5); }
unsigned grid_rows(int64_t rows) {
  int64_t b = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  return (unsigned)(b < 1 ? 1 : (b > 65536 ? 65536 : b));
}

template <typename To, typename Ti>
__global__ void softmax_kernel(To* y, const Ti* x, int64_t rows, int64_t cols, bool log) {
  const int lane = threadIdx.x & 31;
  for (int64_t r = warp_row(); r < rows; r += (int64_t)gridDim.x * kRowsPerBlock) {
    const Ti* xr = x + r * cols;
    const float m = warp_max(sm::lane_max(xr, cols, lane, 32));
    const float s = warp_sum(sm::lane_sum_exp(xr, cols, lane, 32, m));
    sm::lane_write(y + r * cols, xr, cols, lane, 32, m, s, log);
  }
}

template <typename T>
__global__ void softmax_backward_kernel(T* dx, const T* dy, const T* y, int64_t rows, int64_t cols, bool log) {
  const int lane = threadIdx.x & 31;
  for (int64_t r = warp_row(); r < rows; r += (int64_t)gridDim.x * kRowsPerBlock) {
    const float acc = warp_sum(sm::lane_dot(dy + r * cols, y + r * cols, cols, lane, 32, log));
    sm::lane_grad(dx + r * cols, dy + r * cols, y + r * cols, cols, lane, 32, acc, log);
  }
}

}  // namespace

cudaError_t rp_transpose(cudaStream_t s, void* out, int out_dtype, const void* in, int in_dtype, int64_t rows,
                         int64_t cols) {
  const int64_t n = rows * cols;
  if (n <= 0) return cudaSuccess;
  auto launch = [&](auto o, auto i) {
    using To = decltype(o);
    using Ti = decltype(i);
    transpose_kernel<To, Ti><<<grid_for(n), kThreads, 0, s>>>((To*)out, (const Ti*)in, rows, cols);
    return cudaGetLastError();
  };
  // A reduced filter relayout as it is, or widened to float32 (the filter gradient).
  if (out_dtype == in_dtype) return with_reduced_type(in_dtype, [&](auto t) { return launch(t, t); });
  if (out_dtype == kF32) return with_reduced_type(in_dtype, [&](auto t) { return launch(float{}, t); });
  return cudaErrorInvalidValue;
}

cudaError_t rp_pad16(cudaStream_t s, void* big, const void* small, const ew::Window& w) {
  const int64_t n = w.n * w.bh * w.bw * w.c;
  if (n <= 0) return cudaSuccess;
  pad16_kernel<<<grid_for(n), kThreads, 0, s>>>((uint16_t*)big, (const uint16_t*)small, w);
  return cudaGetLastError();
}

cudaError_t rp_crop16(cudaStream_t s, void* small, const void* big, const ew::Window& w) {
  const int64_t n = w.n * w.sh * w.sw * w.c;
  if (n <= 0) return cudaSuccess;
  crop16_kernel<<<grid_for(n), kThreads, 0, s>>>((uint16_t*)small, (const uint16_t*)big, w);
  return cudaGetLastError();
}

cudaError_t rp_softmax(cudaStream_t s, void* y, int y_dtype, const void* x, int x_dtype, int64_t rows,
                       int64_t cols, bool log) {
  if (rows * cols <= 0) return cudaSuccess;
  if (y_dtype != x_dtype && y_dtype != kF32) return cudaErrorInvalidValue;
  return with_reduced_type(x_dtype, [&](auto i) {
    using Ti = decltype(i);
    auto launch = [&](auto o) {
      using To = decltype(o);
      softmax_kernel<To, Ti><<<grid_rows(rows), kThreads, 0, s>>>((To*)y, (const Ti*)x, rows, cols, log);
      return cudaGetLastError();
    };
    return y_dtype == kF32 ? launch(float{}) : launch(Ti{});
  });
}

cudaError_t rp_softmax_backward(cudaStream_t s, void* dx, const void* dy, const void* y, int dtype, int64_t rows,
                                int64_t cols, bool log) {
  if (rows * cols <= 0) return cudaSuccess;
  return with_reduced_type(dtype, [&](auto t) {
    using T = decltype(t);
    softmax_backward_kernel<T><<<grid_rows(rows), kThreads, 0, s>>>((T*)dx, (const T*)dy, (const T*)y, rows, cols,
                                                                    log);
    return cudaGetLastError();
  });
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
