// Elementwise kernels on bfloat16 / float16 storage (declared in reduced_kernels.h): casts,
// unary ops and gradients, broadcasting binary ops with a float32 operand allowed, and the
// conv / matmul epilogue (bias, ReLU, conversion). Each kernel is a one-line wrapper of a
// per-thread body in elementwise_body.h (Note [reduced-precision elementwise], Note [vector
// 16-bit elementwise]); the launchers pick the template instance from the dtype codes (Note
// [typed dispatch] in typed_dispatch.cuh).
#include "common.cuh"
#include "elementwise_body.h"
#include "reduced_kernels.h"
#include "typed_dispatch.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

template <typename To, typename Ti>
__global__ void cast_kernel(To* out, const Ti* in, int64_t n) {
  ew::cast_thread<To, Ti>(out, in, n, CN_THREAD0, CN_STRIDE);
}

template <typename To, typename Ti>
__global__ void cast_vec_kernel(To* out, const Ti* in, int64_t nvec) {
  ew::cast_vec_thread<To, Ti>(out, in, nvec, CN_THREAD0, CN_STRIDE);
}

template <typename T>
__global__ void unary_vec_kernel(T* y, const T* x, int64_t nvec, int op, float alpha) {
  ew::unary_vec_thread<T>(y, x, nvec, op, alpha, CN_THREAD0, CN_STRIDE);
}

template <typename T>
__global__ void unary_grad_vec_kernel(T* dx, const T* dy, const T* ref, int64_t nvec, int op, float alpha) {
  ew::unary_grad_vec_thread<T>(dx, dy, ref, nvec, op, alpha, CN_THREAD0, CN_STRIDE);
}

template <typename To, typename Ta, typename Tb>
__global__ void binary_vec_kernel(To* out, const Ta* a, const Tb* b, int op, int64_t nvec) {
  ew::binary_vec_thread<To, Ta, Tb>(out, a, b, op, nvec, CN_THREAD0, CN_STRIDE);
}

template <typename T>
__global__ void unary_kernel(T* y, const T* x, int64_t n, int op, float alpha) {
  ew::unary_thread<T>(y, x, n, op, alpha, CN_THREAD0, CN_STRIDE);
}

template <typename T>
__global__ void unary_grad_kernel(T* dx, const T* dy, const T* ref, int64_t n, int op, float alpha) {
  ew::unary_grad_thread<T>(dx, dy, ref, n, op, alpha, CN_THREAD0, CN_STRIDE);
}

template <typename To, typename Ta, typename Tb>
__global__ void binary_kernel(To* out, const Ta* a, const Tb* b, int op, int64_t n, ew::Map map) {
  ew::binary_thread<To, Ta, Tb>(out, a, b, op, n, map, CN_THREAD0, CN_STRIDE);
}

template <typename T>
__global__ void add_relu_kernel(T* out, const T* a, const T* b, int64_t n) {
  ew::add_relu_thread<T>(out, a, b, n, CN_THREAD0, CN_STRIDE);
}

template <typename T>
__global__ void add_relu_grad_kernel(T* dx, const T* g1, const T* g2, const T* ref, int64_t n) {
  ew::add_relu_grad_thread<T>(dx, g1, g2, ref, n, CN_THREAD0, CN_STRIDE);
}

template <typename Ty, typename Tin, typename Tb>
__global__ void bias_act_kernel(Ty* y, const Tin* in, const Tb* bias, int64_t n, int64_t cols, bool relu) {
  ew::bias_act_thread<Ty, Tin, Tb>(y, in, bias, n, cols, relu, CN_THREAD0, CN_STRIDE);
}

// Elements (a multiple of 4) that the vector kernels take: all of n's whole vectors where
// every pointer is aligned for four of its elements (Note [vector 16-bit elementwise]).
template <typename... T>
int64_t vec_part(int64_t n, const T*... p) {
  const bool ok = (aligned_vec(p, sizeof(T)) && ...);
  return ok ? n / 4 * 4 : 0;
}

// True when map covers out's n elements with both operands unbroadcast, contiguous.
bool same_shape(const ew::Map& m, int64_t n) {
  int64_t stride = 1;
  for (int d = m.rank - 1; d >= 0; --d) {
    if (m.shape[d] != 1 && (m.a_strides[d] != stride || m.b_strides[d] != stride)) return false;
    stride *= m.shape[d];
  }
  return stride == n;
}

}  // namespace

cudaError_t rp_cast(cudaStream_t s, void* out, int out_dtype, const void* in, int in_dtype, int64_t n) {
  if (n <= 0) return cudaSuccess;
  auto launch = [&](auto o, auto i) {
    using To = decltype(o);
    using Ti = decltype(i);
    const int64_t done = vec_part(n, (const To*)out, (const Ti*)in);
    if (done) cast_vec_kernel<To, Ti><<<grid_for(done / 4), kThreads, 0, s>>>((To*)out, (const Ti*)in, done / 4);
    if (done < n)
      cast_kernel<To, Ti><<<grid_for(n - done), kThreads, 0, s>>>((To*)out + done, (const Ti*)in + done, n - done);
    return cudaGetLastError();
  };
  // The six conversions between distinct types (equal ones are the caller's copy).
  if (in_dtype == kF32) return with_reduced_type(out_dtype, [&](auto o) { return launch(o, float{}); });
  if (out_dtype == kF32) return with_reduced_type(in_dtype, [&](auto i) { return launch(float{}, i); });
  if (in_dtype == kBF16 && out_dtype == kF16) return launch(Fp16{}, Bf16{});  // through float: exact widening
  if (in_dtype == kF16 && out_dtype == kBF16) return launch(Bf16{}, Fp16{});
  return cudaErrorInvalidValue;
}

cudaError_t rp_unary(cudaStream_t s, void* y, const void* x, int dtype, int64_t n, int op, float alpha) {
  if (n <= 0) return cudaSuccess;
  return with_reduced_type(dtype, [&](auto t) {
    using T = decltype(t);
    const int64_t done = vec_part(n, (const T*)y, (const T*)x);
    if (done) unary_vec_kernel<T><<<grid_for(done / 4), kThreads, 0, s>>>((T*)y, (const T*)x, done / 4, op, alpha);
    if (done < n)
      unary_kernel<T><<<grid_for(n - done), kThreads, 0, s>>>((T*)y + done, (const T*)x + done, n - done, op, alpha);
    return cudaGetLastError();
  });
}

cudaError_t rp_unary_grad(cudaStream_t s, void* dx, const void* dy, const void* ref, int dtype, int64_t n,
                          int op, float alpha) {
  if (n <= 0) return cudaSuccess;
  return with_reduced_type(dtype, [&](auto t) {
    using T = decltype(t);
    const int64_t done = vec_part(n, (const T*)dx, (const T*)dy, (const T*)ref);
    if (done)
      unary_grad_vec_kernel<T><<<grid_for(done / 4), kThreads, 0, s>>>((T*)dx, (const T*)dy, (const T*)ref, done / 4,
                                                                       op, alpha);
    if (done < n)
      unary_grad_kernel<T><<<grid_for(n - done), kThreads, 0, s>>>((T*)dx + done, (const T*)dy + done,
                                                                   (const T*)ref + done, n - done, op, alpha);
    return cudaGetLastError();
  });
}

cudaError_t rp_binary(cudaStream_t s, void* out, int out_dtype, const void* a, int a_dtype, const void* b,
                      int b_dtype, int op, int64_t n, const ew::Map& map) {
  if (n <= 0) return cudaSuccess;
  if ((a_dtype != kF32 && a_dtype != out_dtype) || (b_dtype != kF32 && b_dtype != out_dtype))
    return cudaErrorInvalidValue;
  return with_reduced_type(out_dtype, [&](auto o) {
    using To = decltype(o);
    auto launch = [&](auto ta, auto tb) {
      using Ta = decltype(ta);
      using Tb = decltype(tb);
      if (same_shape(map, n)) {  // Note [vector 16-bit elementwise]; the tail by the indexed loop
        const int64_t done = vec_part(n, (const To*)out, (const Ta*)a, (const Tb*)b);
        if (done)
          binary_vec_kernel<To, Ta, Tb><<<grid_for(done / 4), kThreads, 0, s>>>((To*)out, (const Ta*)a, (const Tb*)b,
                                                                                op, done / 4);
        if (done < n) {
          ew::Map flat;  // the tail as a 1-D same-shape map
          flat.rank = 1;
          flat.shape[0] = n - done;
          flat.a_strides[0] = flat.b_strides[0] = 1;
          binary_kernel<To, Ta, Tb><<<grid_for(n - done), kThreads, 0, s>>>((To*)out + done, (const Ta*)a + done,
                                                                            (const Tb*)b + done, op, n - done, flat);
        }
        return cudaGetLastError();
      }
      binary_kernel<To, Ta, Tb><<<grid_for(n), kThreads, 0, s>>>((To*)out, (const Ta*)a, (const Tb*)b, op, n, map);
      return cudaGetLastError();
    };
    if (a_dtype == kF32) return b_dtype == kF32 ? launch(float{}, float{}) : launch(float{}, To{});
    return b_dtype == kF32 ? launch(To{}, float{}) : launch(To{}, To{});
  });
}

cudaError_t rp_add_relu(cudaStream_t s, void* out, const void* a, const void* b, int dtype, int64_t n) {
  if (n <= 0) return cudaSuccess;
  return with_reduced_type(dtype, [&](auto t) {
    using T = decltype(t);
    add_relu_kernel<T><<<grid_for(n), kThreads, 0, s>>>((T*)out, (const T*)a, (const T*)b, n);
    return cudaGetLastError();
  });
}

cudaError_t rp_add_relu_grad(cudaStream_t s, void* dx, const void* g1, const void* g2, const void* ref, int dtype,
                             int64_t n) {
  if (n <= 0) return cudaSuccess;
  return with_reduced_type(dtype, [&](auto t) {
    using T = decltype(t);
    add_relu_grad_kernel<T><<<grid_for(n), kThreads, 0, s>>>((T*)dx, (const T*)g1, (const T*)g2, (const T*)ref, n);
    return cudaGetLastError();
  });
}

cudaError_t rp_bias_act(cudaStream_t s, void* y, int y_dtype, const void* in, int in_dtype, const void* bias,
                        int bias_dtype, int64_t rows, int64_t cols, bool relu) {
  const int64_t n = rows * cols;
  if (n <= 0) return cudaSuccess;
  // The reduced type among the three (a float32 y from a float32 product may take a bf16 bias).
  const int t = reduced_of(reduced_of(y_dtype, in_dtype), bias ? bias_dtype : kF32);
  if ((y_dtype != kF32 && y_dtype != t) || (in_dtype != kF32 && in_dtype != t) ||
      (bias && bias_dtype != kF32 && bias_dtype != t))
    return cudaErrorInvalidValue;
  const bool yf = y_dtype == kF32, inf = in_dtype == kF32, bf = !bias || bias_dtype == kF32;
  return with_type(t, [&](auto r) {
    using R = decltype(r);
    auto launch = [&](auto ty, auto tin, auto tb) {
      using Ty = decltype(ty);
      using Tin = decltype(tin);
      using Tb = decltype(tb);
      bias_act_kernel<Ty, Tin, Tb><<<grid_for(n), kThreads, 0, s>>>((Ty*)y, (const Tin*)in, (const Tb*)bias, n, cols,
                                                                     relu);
      return cudaGetLastError();
    };
    // Each operand float32 or R (Note [typed dispatch]: eight instances per reduced type).
    if (yf) {
      if (inf) return bf ? launch(float{}, float{}, float{}) : launch(float{}, float{}, R{});
      return bf ? launch(float{}, R{}, float{}) : launch(float{}, R{}, R{});
    }
    if (inf) return bf ? launch(R{}, float{}, float{}) : launch(R{}, float{}, R{});
    return bf ? launch(R{}, R{}, float{}) : launch(R{}, R{}, R{});
  });
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
