// Softmax and log-softmax over the last axis of [rows, cols], their backward, and sparse
// softmax cross-entropy. One warp per row: rows of a few to a few thousand classes, which
// is what classifiers have.
#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

constexpr int kRowsPerBlock = kThreads / 32;

__device__ __forceinline__ int64_t warp_row() {
  return (int64_t)blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5);
}

// Row max and sum of exp(x - max), both warp-uniform.
__device__ __forceinline__ void row_stats(const float* x, int64_t cols, int lane, float* mx,
                                          float* sum) {
  float m = -INFINITY;
  for (int64_t j = lane; j < cols; j += 32) m = fmaxf(m, x[j]);
  m = warp_max(m);
  float s = 0.f;
  for (int64_t j = lane; j < cols; j += 32) s += expf(x[j] - m);
  *mx = m;
  *sum = warp_sum(s);
}

__global__ void softmax_kernel(float* y, const float* x, int64_t rows, int64_t cols, bool log) {
  int lane = threadIdx.x & 31;
  for (int64_t r = warp_row(); r < rows; r += (int64_t)gridDim.x * kRowsPerBlock) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m, s;
    row_stats(xr, cols, lane, &m, &s);
    if (log) {
      float lse = m + logf(s);
      for (int64_t j = lane; j < cols; j += 32) yr[j] = xr[j] - lse;
    } else {
      float inv = 1.f / s;
      for (int64_t j = lane; j < cols; j += 32) yr[j] = expf(xr[j] - m) * inv;
    }
  }
}

// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
__global__ void softmax_backward_kernel(float* dx, const float* dy, const float* y, int64_t rows,
                                        int64_t cols, bool log) {
  int lane = threadIdx.x & 31;
  for (int64_t r = warp_row(); r < rows; r += (int64_t)gridDim.x * kRowsPerBlock) {
    const float *dyr = dy + r * cols, *yr = y + r * cols;
    float* dxr = dx + r * cols;
    float acc = 0.f;
    for (int64_t j = lane; j < cols; j += 32) acc += log ? dyr[j] : dyr[j] * yr[j];
    acc = warp_sum(acc);
    for (int64_t j = lane; j < cols; j += 32)
      dxr[j] = log ? dyr[j] - expf(yr[j]) * acc : yr[j] * (dyr[j] - acc);
  }
}

// loss[r] = logsumexp(x_r) - x_r[label]; dlogits = softmax(x_r) - onehot(label).
// Note [bad labels]: a label outside [0, cols) gives a NaN loss and NaN gradients for the
// row (as TensorFlow's GPU kernel does), and the kernel records it in `bad` (host-mapped
// memory: [flag, label, row, cols]); the backend turns that into an ERR_INVALID_ARGUMENT
// error at the next synchronization (a read-back or the end of a compiled plan), like the
// CPU kernel's error, without making every step wait for the labels to be checked.
__global__ void sparse_xent_kernel(float* loss, float* dlogits, const float* logits,
                                   const int32_t* labels, int64_t rows, int64_t cols, int* bad) {
  int lane = threadIdx.x & 31;
  for (int64_t r = warp_row(); r < rows; r += (int64_t)gridDim.x * kRowsPerBlock) {
    const float* xr = logits + r * cols;
    int64_t label = labels[r];
    bool ok = label >= 0 && label < cols;
    if (!ok && lane == 0 && bad) {
      bad[1] = (int)label;
      bad[2] = (int)r;
      bad[3] = (int)cols;
      __threadfence_system();
      bad[0] = 1;
    }
    float m, s;
    row_stats(xr, cols, lane, &m, &s);
    float lse = m + logf(s);
    if (lane == 0) loss[r] = ok ? lse - xr[label] : NAN;
    if (dlogits) {
      float inv = 1.f / s;
      float* dr = dlogits + r * cols;
      for (int64_t j = lane; j < cols; j += 32)
        dr[j] = ok ? expf(xr[j] - m) * inv - (j == label ? 1.f : 0.f) : NAN;
    }
  }
}

unsigned grid_rows(int64_t rows) {
  int64_t b = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  return (unsigned)(b < 1 ? 1 : (b > 65536 ? 65536 : b));
}

}  // namespace

cudaError_t softmax(cudaStream_t s, float* y, const float* x, int64_t rows, int64_t cols,
                    bool log) {
  if (rows * cols == 0) return cudaSuccess;
  softmax_kernel<<<grid_rows(rows), kThreads, 0, s>>>(y, x, rows, cols, log);
  return cudaGetLastError();
}

cudaError_t softmax_backward(cudaStream_t s, float* dx, const float* dy, const float* y,
                             int64_t rows, int64_t cols, bool log) {
  if (rows * cols == 0) return cudaSuccess;
  softmax_backward_kernel<<<grid_rows(rows), kThreads, 0, s>>>(dx, dy, y, rows, cols, log);
  return cudaGetLastError();
}

cudaError_t sparse_xent(cudaStream_t s, float* loss, float* dlogits, const float* logits,
                        const int32_t* labels, int64_t rows, int64_t cols, int* bad) {
  if (rows == 0) return cudaSuccess;
  sparse_xent_kernel<<<grid_rows(rows), kThreads, 0, s>>>(loss, dlogits, logits, labels, rows,
                                                          cols, bad);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
