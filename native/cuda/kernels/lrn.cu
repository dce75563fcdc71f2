// Local response normalization across channels (TensorFlow's LRN / LRNGrad) over [rows, c]:
// one thread per element, each summing its channel window. See Note [API choice: LRN] in
// ../lrn.cc.
#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

// bias + alpha * sum of x^2 over channels [ch - r, ch + r] inside [0, c) of element i's row.
__device__ __forceinline__ float lrn_norm(const float* x, int64_t i, const LRNDesc& d) {
  int64_t ch = i % d.c, row = i - ch;
  int64_t lo = ch - d.depth_radius < 0 ? 0 : ch - d.depth_radius;
  int64_t hi = ch + d.depth_radius + 1 > d.c ? d.c : ch + d.depth_radius + 1;
  float sum = 0.f;
  for (int64_t j = lo; j < hi; j++) {
    float v = x[row + j];
    sum += v * v;
  }
  return d.bias + d.alpha * sum;
}

__global__ void lrn_forward_kernel(float* y, const float* x, LRNDesc d) {
  CN_FOR_EACH(i, d.rows * d.c) y[i] = x[i] * powf(lrn_norm(x, i, d), -d.beta);
}

// Pass 1 of the gradient: dx_j = dy_j * N_j^-beta and r_j = dy_j * y_j / N_j.
__global__ void lrn_grad_prep_kernel(float* dx, float* r, const float* dy, const float* x,
                                     const float* y, LRNDesc d) {
  CN_FOR_EACH(i, d.rows * d.c) {
    float norm = lrn_norm(x, i, d);
    dx[i] = dy[i] * powf(norm, -d.beta);
    r[i] = dy[i] * y[i] / norm;
  }
}

// Pass 2: dx_k -= 2 * alpha * beta * x_k * sum of r_j over k's window (the window is
// symmetric, so j's window holds k exactly when k's holds j).
__global__ void lrn_grad_finish_kernel(float* dx, const float* r, const float* x, LRNDesc d) {
  CN_FOR_EACH(i, d.rows * d.c) {
    int64_t ch = i % d.c, row = i - ch;
    int64_t lo = ch - d.depth_radius < 0 ? 0 : ch - d.depth_radius;
    int64_t hi = ch + d.depth_radius + 1 > d.c ? d.c : ch + d.depth_radius + 1;
    float sum = 0.f;
    for (int64_t j = lo; j < hi; j++) sum += r[row + j];
    dx[i] -= 2.f * d.alpha * d.beta * x[i] * sum;
  }
}

}  // namespace

cudaError_t lrn_forward(cudaStream_t s, float* y, const float* x, const LRNDesc& d) {
  int64_t n = d.rows * d.c;
  if (n == 0) return cudaSuccess;
  lrn_forward_kernel<<<grid_for(n), kThreads, 0, s>>>(y, x, d);
  return cudaGetLastError();
}

cudaError_t lrn_backward(cudaStream_t s, float* dx, float* scratch, const float* dy,
                         const float* x, const float* y, const LRNDesc& d) {
  int64_t n = d.rows * d.c;
  if (n == 0) return cudaSuccess;
  lrn_grad_prep_kernel<<<grid_for(n), kThreads, 0, s>>>(dx, scratch, dy, x, y, d);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  lrn_grad_finish_kernel<<<grid_for(n), kThreads, 0, s>>>(dx, scratch, x, d);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
