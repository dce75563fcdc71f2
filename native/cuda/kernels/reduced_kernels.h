// Host-side declarations of the cuda kernels on bfloat16 / float16 storage (the cuda
// backend's ReducedPrecisionOps, ../half_backend.h). Plain C++ like kernels.h: every
// launcher takes void pointers and the int value of each one's cn::DType (kF32, kBF16, kF16
// of half_types.h), instantiates the kernel templated on those storage types and queues it
// on `s`. The per-thread code lives in the *_body.h headers (host + device, tested on the
// host); the kernels are in reduced_elementwise.cu, reduced_layout.cu, pool.cu and batchnorm.cu.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "elementwise_body.h"
#include "kernels.h"

namespace cn {
namespace cuda {
namespace k {

// ---- reduced_elementwise.cu (cast, unary, binary, epilogue) and reduced_layout.cu (the rest)
// Conversion between float32 and bfloat16 / float16 (either direction; bf16 <-> f16 too).
cudaError_t rp_cast(cudaStream_t s, void* out, int out_dtype, const void* in, int in_dtype, int64_t n);
cudaError_t rp_unary(cudaStream_t s, void* y, const void* x, int dtype, int64_t n, int op, float alpha);
cudaError_t rp_unary_grad(cudaStream_t s, void* dx, const void* dy, const void* ref, int dtype, int64_t n,
                          int op, float alpha);
// out (out_dtype) = a (op) b over n elements through map; a and b each of out_dtype or float32.
cudaError_t rp_binary(cudaStream_t s, void* out, int out_dtype, const void* a, int a_dtype, const void* b,
                      int b_dtype, int op, int64_t n, const ew::Map& map);
// y (y_dtype) = act(in (in_dtype) + bias (bias_dtype, may be null)) over [rows, cols].
cudaError_t rp_bias_act(cudaStream_t s, void* y, int y_dtype, const void* in, int in_dtype, const void* bias,
                        int bias_dtype, int64_t rows, int64_t cols, bool relu);
// out [cols, rows] (out_dtype) = in [rows, cols] (in_dtype) transposed.
cudaError_t rp_transpose(cudaStream_t s, void* out, int out_dtype, const void* in, int in_dtype, int64_t rows,
                         int64_t cols);
// Zero-pad 16-bit NHWC `small` into `big`, and crop `small` back out of `big` (ew::Window).
cudaError_t rp_pad16(cudaStream_t s, void* big, const void* small, const ew::Window& w);
cudaError_t rp_crop16(cudaStream_t s, void* small, const void* big, const ew::Window& w);
// Softmax / log-softmax over the last axis of [rows, cols]: y (y_dtype) from x (x_dtype).
cudaError_t rp_softmax(cudaStream_t s, void* y, int y_dtype, const void* x, int x_dtype, int64_t rows,
                       int64_t cols, bool log);
cudaError_t rp_softmax_backward(cudaStream_t s, void* dx, const void* dy, const void* y, int dtype, int64_t rows,
                                int64_t cols, bool log);

// ---- movement.cu: gather_strided, copy_slab and pad (kernels.h) on 2-byte elements, bit for
// bit; pad's value given as the dtype's bits.
cudaError_t gather_strided16(cudaStream_t s, void* out, const void* in, int64_t n, const IndexMap& map,
                             int64_t in_offset);
cudaError_t copy_slab16(cudaStream_t s, void* out, const void* in, int64_t outer, int64_t in_axis, int64_t out_axis,
                        int64_t offset, int64_t inner, bool into_out);
cudaError_t pad16(cudaStream_t s, void* out, const void* in, int64_t n, const PadDesc& d, uint16_t value_bits);
// out = relu(a + b); dx = g1 + g2 where ref > 0, else 0 (reduced_elementwise.cu; one dtype).
cudaError_t rp_add_relu(cudaStream_t s, void* out, const void* a, const void* b, int dtype, int64_t n);
cudaError_t rp_add_relu_grad(cudaStream_t s, void* dx, const void* g1, const void* g2, const void* ref, int dtype,
                             int64_t n);

// ---- pool.cu (as pool_forward / pool_backward, x, y, dy, dx of dtype)
cudaError_t rp_pool_forward(cudaStream_t s, void* y, const void* x, int dtype, const PoolDesc& d);
cudaError_t rp_pool_backward(cudaStream_t s, void* dx, const void* dy, const void* x, int dtype,
                             int* argmax_scratch, const PoolDesc& d);

// ---- batchnorm.cu (as bn_*, x, y, dy, dx of dtype; statistics and parameters float32)
cudaError_t rp_bn_moments(cudaStream_t s, float* mean, float* var, double* partials, const void* x, int dtype,
                          int64_t rows, int64_t c);
// out[ch] = sum over rows of x[r, ch] (x of dtype, out float32; deterministic, double partial
// sums); partials as for bn_partials_size(rows, c).
cudaError_t rp_column_sums(cudaStream_t s, float* out, double* partials, const void* x, int dtype, int64_t rows,
                           int64_t c);
// relu_scale / relu_beta (may be null: no relu) and z (the residual, may be null; x's dtype)
// as for the float32 bn_* of kernels.h (the fused forms).
cudaError_t rp_bn_grad_sums(cudaStream_t s, float* s_dy, float* s_dyd, double* partials, const void* x,
                            const void* dy, int dtype, const float* mean, const float* relu_scale,
                            const float* relu_beta, int64_t rows, int64_t c);
cudaError_t rp_bn_normalize(cudaStream_t s, void* y, const void* x, const void* z, int dtype, const float* mean,
                            const float* var, const float* gamma, const float* beta, bool relu, float* scale,
                            int64_t rows, int64_t c, float eps);
cudaError_t rp_bn_backward(cudaStream_t s, void* dx, float* dgamma, float* dbeta, const void* dy,
                           const void* x, int dtype, const float* mean, const float* var,
                           const float* gamma, const float* s_dy, const float* s_dyd, const float* relu_scale,
                           const float* relu_beta, float* coeff, int64_t rows, int64_t c, float eps);

}  // namespace k
}  // namespace cuda
}  // namespace cn
