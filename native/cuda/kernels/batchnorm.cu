// Batch normalization over the last axis of [rows, c] (NHWC flattened): per-channel
// statistics by deterministic two-stage reductions (partial sums per row split in double,
// then a fixed-order sum per channel), and the elementwise normalize / backward-data passes.
// What each thread does lives in batchnorm_body.h (host + device, tested on the host), with
// Note [batch norm passes] and Note [four channels per thread]; these kernels wrap it.
// See Note [API choice: batch norm] in ../batchnorm.cc for why these are ours.
#include "batchnorm_body.h"
#include "common.cuh"
#include "reduced_kernels.h"

namespace cn {
namespace cuda {
namespace k {

namespace {

#define CN_THREAD0 ((int64_t)blockIdx.x * blockDim.x + threadIdx.x)
#define CN_STRIDE ((int64_t)gridDim.x * blockDim.x)

// T: the storage type of x, y, dy and dx (float, or Bf16 / Fp16: Note [batch norm in
// reduced precision]); statistics and parameters are float whatever T is.
template <int W, typename T>
__global__ void bn_partials_kernel(double* p0, double* p1, const T* x, const T* dy,
                                   const float* mean, const float* mscale, const float* mbeta,
                                   int64_t rows, int64_t c, int64_t splits, int kind) {
  bn::partials_thread<W>(p0, p1, x, dy, mean, mscale, mbeta, rows, c, splits, kind, CN_THREAD0, CN_STRIDE);
}

// One warp per channel (block sizes are multiples of 32, so every lane of a warp is there).
template <typename T>
__global__ void bn_finish_kernel(float* out0, float* out1, const double* p0, const double* p1,
                                 const T* x, int64_t rows, int64_t splits, int64_t c,
                                 int kind) {
  const int lane = threadIdx.x & 31;
  for (int64_t ch = CN_THREAD0 >> 5; ch < c; ch += CN_STRIDE >> 5) {
    double a, b;
    bn::finish_lane(&a, &b, p0, p1, splits, c, ch, lane);
    for (int o = 16; o > 0; o >>= 1) {
      a += __shfl_xor_sync(0xffffffffu, a, o);
      b += __shfl_xor_sync(0xffffffffu, b, o);
    }
    if (lane == 0) bn::finish_store(out0, out1, x, rows, ch, a, b, kind);
  }
}

__global__ void bn_scale_kernel(float* scale, const float* var, const float* gamma, int64_t c,
                                float eps) {
  CN_FOR_EACH(ch, c) bn::scale_item(scale, var, gamma, ch, eps);
}

template <int W, typename T>
__global__ void bn_normalize_kernel(T* y, const T* x, const T* z, const float* mean,
                                    const float* scale, const float* beta, bool relu,
                                    int64_t nvec, int64_t groups, bool stationary) {
  bn::normalize_thread<W>(y, x, z, mean, scale, beta, relu, nvec, groups, stationary, CN_THREAD0, CN_STRIDE);
}

__global__ void bn_param_grads_kernel(float* dgamma, float* dbeta, float* coeff,
                                      const float* s_dy, const float* s_dyd, const float* var,
                                      const float* gamma, int64_t c, float eps, float inv_rows) {
  CN_FOR_EACH(ch, c) bn::param_grads_item(dgamma, dbeta, coeff, s_dy, s_dyd, var, gamma, c, ch, eps, inv_rows);
}

template <int W, typename T>
__global__ void bn_backward_data_kernel(T* dx, const T* dy, const T* x,
                                        const float* mean, const float* coeff,
                                        const float* mscale, const float* mbeta, int64_t nvec,
                                        int64_t groups, int64_t c, bool stationary) {
  bn::backward_data_thread<W>(dx, dy, x, mean, coeff, mscale, mbeta, nvec, groups, c, stationary, CN_THREAD0,
                              CN_STRIDE);
}

template <typename T>
cudaError_t sums(cudaStream_t s, float* out0, float* out1, double* partials, const T* x,
                 const T* dy, const float* mean, const float* mscale, const float* mbeta,
                 int64_t rows, int64_t c, int kind) {
  const int w = bn::width(c, x, dy, nullptr, sizeof(T));
  int64_t splits = 0;
  const bn::Launch lp = bn::partials_launch(rows, c, w, &splits);
  double* p0 = partials;
  double* p1 = partials + splits * c;
  if (w == 4)
    bn_partials_kernel<4, T><<<lp.blocks, lp.threads, 0, s>>>(p0, p1, x, dy, mean, mscale, mbeta, rows, c, splits, kind);
  else
    bn_partials_kernel<1, T><<<lp.blocks, lp.threads, 0, s>>>(p0, p1, x, dy, mean, mscale, mbeta, rows, c, splits, kind);
  const bn::Launch lf = bn::finish_launch(c);
  bn_finish_kernel<T><<<lf.blocks, lf.threads, 0, s>>>(out0, out1, p0, p1, x, rows, splits, c, kind);
  return cudaGetLastError();
}

}  // namespace

int64_t bn_partials_size(int64_t rows, int64_t c) { return bn::partials_size(rows, c); }

cudaError_t bn_moments(cudaStream_t s, float* mean, float* var, double* partials,
                       const float* x, int64_t rows, int64_t c) {
  if (c == 0 || rows == 0) return cudaSuccess;
  return sums<float>(s, mean, var, partials, x, nullptr, nullptr, nullptr, nullptr, rows, c, bn::kMoments);
}

cudaError_t bn_grad_sums(cudaStream_t s, float* s_dy, float* s_dyd, double* partials,
                         const float* x, const float* dy, const float* mean,
                         const float* relu_scale, const float* relu_beta, int64_t rows,
                         int64_t c) {
  if (c == 0 || rows == 0) return cudaSuccess;
  return sums<float>(s, s_dy, s_dyd, partials, x, dy, mean, relu_scale, relu_beta, rows, c, bn::kGradSums);
}

cudaError_t bn_scale(cudaStream_t s, float* scale, const float* var, const float* gamma, int64_t c,
                     float eps) {
  if (c == 0) return cudaSuccess;
  bn_scale_kernel<<<grid_for(c), kThreads, 0, s>>>(scale, var, gamma, c, eps);
  return cudaGetLastError();
}

namespace {

template <typename T>
cudaError_t normalize_t(cudaStream_t s, T* y, const T* x, const T* z, const float* mean, const float* var,
                        const float* gamma, const float* beta, bool relu, float* scale, int64_t rows, int64_t c,
                        float eps) {
  const int64_t n = rows * c;
  if (n == 0) return cudaSuccess;
  bn_scale_kernel<<<grid_for(c), kThreads, 0, s>>>(scale, var, gamma, c, eps);
  const int w = bn::width(c, x, y, z, sizeof(T));
  const int64_t groups = c / w, nvec = n / w;
  bool stationary = false;
  const bn::Launch l = bn::elementwise_launch(nvec, groups, &stationary);
  if (w == 4)
    bn_normalize_kernel<4, T><<<l.blocks, l.threads, 0, s>>>(y, x, z, mean, scale, beta, relu, nvec, groups, stationary);
  else
    bn_normalize_kernel<1, T><<<l.blocks, l.threads, 0, s>>>(y, x, z, mean, scale, beta, relu, nvec, groups, stationary);
  return cudaGetLastError();
}

template <typename T>
cudaError_t backward_t(cudaStream_t s, T* dx, float* dgamma, float* dbeta, const T* dy, const T* x,
                       const float* mean, const float* var, const float* gamma, const float* s_dy,
                       const float* s_dyd, const float* relu_scale, const float* relu_beta, float* coeff,
                       int64_t rows, int64_t c, float eps) {
  if (c == 0) return cudaSuccess;
  const int64_t n = rows * c;
  const bool with_dx = dx && n > 0;
  bn_param_grads_kernel<<<grid_for(c), kThreads, 0, s>>>(dgamma, dbeta, with_dx ? coeff : nullptr,
                                                         s_dy, s_dyd, var, gamma, c, eps,
                                                         1.f / (float)(rows > 0 ? rows : 1));
  if (with_dx) {
    const int w = bn::width(c, dx, dy, x, sizeof(T));
    const int64_t groups = c / w, nvec = n / w;
    bool stationary = false;
    const bn::Launch l = bn::elementwise_launch(nvec, groups, &stationary);
    if (w == 4)
      bn_backward_data_kernel<4, T><<<l.blocks, l.threads, 0, s>>>(dx, dy, x, mean, coeff, relu_scale, relu_beta,
                                                                     nvec, groups, c, stationary);
    else
      bn_backward_data_kernel<1, T><<<l.blocks, l.threads, 0, s>>>(dx, dy, x, mean, coeff, relu_scale, relu_beta,
                                                                     nvec, groups, c, stationary);
  }
  return cudaGetLastError();
}

// f(T*) with x's storage type for dtype code (Bf16 or Fp16).
template <typename F>
cudaError_t with_reduced(int dtype, F f) {
  if (dtype == kBF16) return f((Bf16*)nullptr);
  if (dtype == kF16) return f((Fp16*)nullptr);
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t bn_normalize(cudaStream_t s, float* y, const float* x, const float* z,
                         const float* mean, const float* var, const float* gamma,
                         const float* beta, bool relu, float* scale, int64_t rows, int64_t c,
                         float eps) {
  return normalize_t<float>(s, y, x, z, mean, var, gamma, beta, relu, scale, rows, c, eps);
}

cudaError_t bn_backward(cudaStream_t s, float* dx, float* dgamma, float* dbeta, const float* dy,
                        const float* x, const float* mean, const float* var, const float* gamma,
                        const float* s_dy, const float* s_dyd, const float* relu_scale,
                        const float* relu_beta, float* coeff, int64_t rows, int64_t c, float eps) {
  return backward_t<float>(s, dx, dgamma, dbeta, dy, x, mean, var, gamma, s_dy, s_dyd, relu_scale, relu_beta,
                           coeff, rows, c, eps);
}

cudaError_t rp_bn_moments(cudaStream_t s, float* mean, float* var, double* partials, const void* x, int dtype,
                          int64_t rows, int64_t c) {
  if (c == 0 || rows == 0) return cudaSuccess;
  return with_reduced(dtype, [&](auto* t) {
    using T = std::remove_pointer_t<decltype(t)>;
    return sums<T>(s, mean, var, partials, (const T*)x, nullptr, nullptr, nullptr, nullptr, rows, c, bn::kMoments);
  });
}

cudaError_t rp_column_sums(cudaStream_t s, float* out, double* partials, const void* x, int dtype, int64_t rows,
                           int64_t c) {
  if (c == 0) return cudaSuccess;
  if (rows == 0) return cudaMemsetAsync(out, 0, sizeof(float) * c, s);
  return with_reduced(dtype, [&](auto* t) {
    using T = std::remove_pointer_t<decltype(t)>;
    return sums<T>(s, out, nullptr, partials, (const T*)x, nullptr, nullptr, nullptr, nullptr, rows, c,
                   bn::kColumnSums);
  });
}

cudaError_t rp_bn_grad_sums(cudaStream_t s, float* s_dy, float* s_dyd, double* partials, const void* x,
                            const void* dy, int dtype, const float* mean, const float* relu_scale,
                            const float* relu_beta, int64_t rows, int64_t c) {
  if (c == 0 || rows == 0) return cudaSuccess;
  return with_reduced(dtype, [&](auto* t) {
    using T = std::remove_pointer_t<decltype(t)>;
    return sums<T>(s, s_dy, s_dyd, partials, (const T*)x, (const T*)dy, mean, relu_scale, relu_beta, rows, c,
                   bn::kGradSums);
  });
}

cudaError_t rp_bn_normalize(cudaStream_t s, void* y, const void* x, const void* z, int dtype, const float* mean,
                            const float* var, const float* gamma, const float* beta, bool relu, float* scale,
                            int64_t rows, int64_t c, float eps) {
  return with_reduced(dtype, [&](auto* t) {
    using T = std::remove_pointer_t<decltype(t)>;
    return normalize_t<T>(s, (T*)y, (const T*)x, (const T*)z, mean, var, gamma, beta, relu, scale, rows, c, eps);
  });
}

cudaError_t rp_bn_backward(cudaStream_t s, void* dx, float* dgamma, float* dbeta, const void* dy,
                           const void* x, int dtype, const float* mean, const float* var,
                           const float* gamma, const float* s_dy, const float* s_dyd, const float* relu_scale,
                           const float* relu_beta, float* coeff, int64_t rows, int64_t c, float eps) {
  return with_reduced(dtype, [&](auto* t) {
    using T = std::remove_pointer_t<decltype(t)>;
    return backward_t<T>(s, (T*)dx, dgamma, dbeta, (const T*)dy, (const T*)x, mean, var, gamma, s_dy, s_dyd,
                         relu_scale, relu_beta, coeff, rows, c, eps);
  });
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
