// NHWC 2-D max / average pooling forward and backward, and max pooling's gather (its second
// derivative). What each thread does lives in pool_body.h (host + device, tested on the
// host), with Note [pooling index arithmetic] and Note [pooling backward by gather]; these
// kernels wrap it. See Note [API choice: pooling] in ../pool.cc for why these are ours.
#include "common.cuh"
#include "pool_body.h"
#include "reduced_kernels.h"

namespace cn {
namespace cuda {
namespace k {

namespace {

#define CN_THREAD0 ((int64_t)blockIdx.x * blockDim.x + threadIdx.x)
#define CN_STRIDE ((int64_t)gridDim.x * blockDim.x)

// T: the storage type of x, y, dy and dx (float, or Bf16 / Fp16: reduced_kernels.h).
template <typename I, int W, typename T>
__global__ void pool_forward_kernel(T* y, const T* x, pool::Geom<I> d, bool max, int64_t items) {
  pool::forward_thread<I, W>(y, x, d, max, items, CN_THREAD0, CN_STRIDE);
}

template <typename I, int W, typename T>
__global__ void pool_argmax_kernel(int* at, const T* x, pool::Geom<I> d, int64_t items) {
  pool::argmax_thread<I, W>(at, x, d, items, CN_THREAD0, CN_STRIDE);
}

template <typename I, int W>
__global__ void max_pool_gather_kernel(float* y, const float* src, const float* x, pool::Geom<I> d,
                                       int64_t items) {
  pool::gather_thread<I, W>(y, src, x, d, items, CN_THREAD0, CN_STRIDE);
}

template <typename I, int W, typename T>
__global__ void pool_backward_kernel(T* dx, const T* dy, const int* at, pool::Geom<I> d,
                                     int64_t items) {
  pool::backward_thread<I, W>(dx, dy, at, d, items, CN_THREAD0, CN_STRIDE);
}

template <typename I>
pool::Geom<I> geom(const PoolDesc& d) {
  return {(I)d.n, (I)d.in_h, (I)d.in_w, (I)d.c, (I)d.out_h, (I)d.out_w, (I)d.k_h, (I)d.k_w,
          (I)d.stride_h, (I)d.stride_w, (I)d.pad_top, (I)d.pad_left};
}

template <typename I, int W, typename T>
cudaError_t run_forward(cudaStream_t s, T* y, const T* x, const PoolDesc& d, int64_t items) {
  const pool::Launch l = pool::launch(items);
  pool_forward_kernel<I, W, T><<<l.blocks, l.threads, 0, s>>>(y, x, geom<I>(d), d.max, items);
  return cudaGetLastError();
}

template <typename I, int W>
cudaError_t run_gather(cudaStream_t s, float* y, const float* src, const float* x,
                       const PoolDesc& d, int64_t items) {
  const pool::Launch l = pool::launch(items);
  max_pool_gather_kernel<I, W><<<l.blocks, l.threads, 0, s>>>(y, src, x, geom<I>(d), items);
  return cudaGetLastError();
}

template <typename I, int W, typename T>
cudaError_t run_backward(cudaStream_t s, T* dx, const T* dy, const T* x, int* at,
                         const PoolDesc& d, int64_t in_items, int64_t out_items) {
  if (at) {
    const pool::Launch l = pool::launch(out_items);
    pool_argmax_kernel<I, W, T><<<l.blocks, l.threads, 0, s>>>(at, x, geom<I>(d), out_items);
  }
  const pool::Launch l = pool::launch(in_items);
  pool_backward_kernel<I, W, T><<<l.blocks, l.threads, 0, s>>>(dx, dy, at, geom<I>(d), in_items);
  return cudaGetLastError();
}

// fn<I, W> args, for the index type and width this call allows.
#define CN_POOL_DISPATCH(d, w, fn, args)                                          \
  (pool::fits_int32((d).n, (d).in_h, (d).in_w, (d).c, (d).out_h, (d).out_w)       \
       ? ((w) == 4 ? fn<int, 4> args : fn<int, 1> args)                           \
       : ((w) == 4 ? fn<int64_t, 4> args : fn<int64_t, 1> args))

template <typename T>
cudaError_t forward_t(cudaStream_t s, T* y, const T* x, const PoolDesc& d) {
  const int64_t out = d.n * d.out_h * d.out_w * d.c;
  if (out == 0) return cudaSuccess;
  const int w = pool::width(d.c, y, x, nullptr, nullptr, sizeof(T));
  return CN_POOL_DISPATCH(d, w, run_forward, (s, y, x, d, out / w));
}

template <typename T>
cudaError_t backward_t(cudaStream_t s, T* dx, const T* dy, const T* x, int* argmax_scratch, const PoolDesc& d) {
  const int64_t in = d.n * d.in_h * d.in_w * d.c, out = d.n * d.out_h * d.out_w * d.c;
  if (in == 0) return cudaSuccess;
  if (d.max && (out == 0 || !argmax_scratch)) return cudaErrorInvalidValue;
  int* at = d.max ? argmax_scratch : nullptr;
  const int w = pool::width(d.c, dx, dy, x, at, sizeof(T));
  return CN_POOL_DISPATCH(d, w, run_backward, (s, dx, dy, x, at, d, in / w, out / w));
}

}  // namespace

cudaError_t pool_forward(cudaStream_t s, float* y, const float* x, const PoolDesc& d) {
  return forward_t<float>(s, y, x, d);
}

cudaError_t rp_pool_forward(cudaStream_t s, void* y, const void* x, int dtype, const PoolDesc& d) {
  if (dtype == kBF16) return forward_t<Bf16>(s, (Bf16*)y, (const Bf16*)x, d);
  if (dtype == kF16) return forward_t<Fp16>(s, (Fp16*)y, (const Fp16*)x, d);
  return cudaErrorInvalidValue;
}

cudaError_t rp_pool_backward(cudaStream_t s, void* dx, const void* dy, const void* x, int dtype,
                             int* argmax_scratch, const PoolDesc& d) {
  if (dtype == kBF16) return backward_t<Bf16>(s, (Bf16*)dx, (const Bf16*)dy, (const Bf16*)x, argmax_scratch, d);
  if (dtype == kF16) return backward_t<Fp16>(s, (Fp16*)dx, (const Fp16*)dy, (const Fp16*)x, argmax_scratch, d);
  return cudaErrorInvalidValue;
}

cudaError_t max_pool_gather(cudaStream_t s, float* y, const float* src, const float* x,
                            const PoolDesc& d) {
  const int64_t out = d.n * d.out_h * d.out_w * d.c;
  if (out == 0) return cudaSuccess;
  const int w = pool::width(d.c, y, src, x);
  return CN_POOL_DISPATCH(d, w, run_gather, (s, y, src, x, d, out / w));
}

size_t pool_backward_scratch(const PoolDesc& d) {
  return d.max ? sizeof(int) * (size_t)(d.n * d.out_h * d.out_w * d.c) : 0;
}

cudaError_t pool_backward(cudaStream_t s, float* dx, const float* dy, const float* x,
                          int* argmax_scratch, const PoolDesc& d) {
  return backward_t<float>(s, dx, dy, x, argmax_scratch, d);
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
