// Host-side declarations of the cuda backend's own kernels (what cuDNN and cuBLAS lack).
// Each launcher queues its kernel(s) on `s` and returns the launch's cudaError_t. This header
// is plain C++ (no CUDA syntax), so the backend's .cc files stay ordinary C++; the .cu files
// in this directory hold the kernels. Enum arguments are the int values of cn::UnaryOp,
// cn::BinaryOp, cn::ReduceOp, cn::DType and cn::PoolKind.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../core/projective.h"

namespace cn {
namespace cuda {
namespace k {

constexpr int kMaxDims = 8;

// An index map for rank <= 8 tensors: out_shape, and per input the element strides for each
// output axis (0 where broadcast). Plain data, passed to kernels by value.
struct IndexMap {
  int rank = 0;
  int64_t shape[kMaxDims] = {0};
  int64_t a_strides[kMaxDims] = {0};
  int64_t b_strides[kMaxDims] = {0};
};

// ---- elementwise.cu
cudaError_t unary(cudaStream_t s, float* y, const float* x, int64_t n, int op, float alpha);
cudaError_t unary_grad(cudaStream_t s, float* dx, const float* dy, const float* ref, int64_t n,
                       int op, float alpha);
// int32 when is_int, else float32; mode 0: same shape, 1: a scalar, 2: b scalar, 3: map.
cudaError_t binary(cudaStream_t s, void* out, const void* a, const void* b, bool is_int, int op,
                   int64_t n, int mode, const IndexMap& map);
// out = relu(a + b); dx = g1 + g2 where ref > 0, else 0 (same sizes).
cudaError_t add_relu(cudaStream_t s, float* out, const float* a, const float* b, int64_t n);
cudaError_t add_relu_grad(cudaStream_t s, float* dx, const float* g1, const float* g2,
                          const float* ref, int64_t n);
cudaError_t select(cudaStream_t s, float* out, const float* cond, const float* a,
                   const float* b, int64_t n);
cudaError_t cast(cudaStream_t s, void* out, int out_dtype, const void* in, int in_dtype,
                 int64_t n);
cudaError_t fill(cudaStream_t s, void* out, int dtype, double value, int64_t n);
// y[r, c] = act(y[r, c] + bias[c]) in place over [rows, cols]; bias may be null.
cudaError_t bias_act(cudaStream_t s, float* y, const float* bias, int64_t rows, int64_t cols,
                     bool relu);

// ---- reduce.cu: [outer, r, inner] views
// Floats of scratch reduce() needs (0: none); pass that many in `scratch`.
int64_t reduce_scratch(int64_t outer, int64_t r, int64_t inner);
cudaError_t reduce(cudaStream_t s, float* out, const float* in, int64_t outer, int64_t r,
                   int64_t inner, int op, float* scratch);
cudaError_t argmax(cudaStream_t s, int32_t* out, const float* in, int64_t outer, int64_t r,
                   int64_t inner);
cudaError_t one_hot(cudaStream_t s, float* out, const int32_t* indices, int64_t n,
                    int64_t depth, float on_value, float off_value);

// ---- movement.cu (4-byte elements)
// out[j] = in[sum_d idx_d(j) * map.a_strides[d]] over out shape map.shape.
cudaError_t gather_strided(cudaStream_t s, void* out, const void* in, int64_t n,
                           const IndexMap& map, int64_t in_offset);
cudaError_t copy_slab(cudaStream_t s, void* out, const void* in, int64_t outer, int64_t in_axis,
                      int64_t out_axis, int64_t offset, int64_t inner, bool into_out);
struct PadDesc {
  int rank = 0;
  int64_t out_shape[kMaxDims] = {0}, in_shape[kMaxDims] = {0}, before[kMaxDims] = {0};
};
// out[idx] = in[idx - before] where that lies inside in_shape, else value.
cudaError_t pad(cudaStream_t s, float* out, const float* in, int64_t n, const PadDesc& d,
                float value);

// ---- batchnorm.cu: over the last axis of [rows, c]
// Doubles of scratch the per-channel sums need (for any width the call picks).
int64_t bn_partials_size(int64_t rows, int64_t c);
// Batch mean and biased variance of x, in one pass. Deterministic.
cudaError_t bn_moments(cudaStream_t s, float* mean, float* var, double* partials,
                       const float* x, int64_t rows, int64_t c);
// s_dy = sum dy, s_dyd = sum dy * (x - mean) per channel. Deterministic. With relu_scale
// (from bn_scale), dy is first masked by relu((x - mean) * relu_scale + relu_beta).
cudaError_t bn_grad_sums(cudaStream_t s, float* s_dy, float* s_dyd, double* partials,
                         const float* x, const float* dy, const float* mean,
                         const float* relu_scale, const float* relu_beta, int64_t rows,
                         int64_t c);
// scale = gamma / sqrt(var + eps) per channel (gamma may be null).
cudaError_t bn_scale(cudaStream_t s, float* scale, const float* var, const float* gamma, int64_t c,
                     float eps);
// y = (x - mean) / sqrt(var + eps) * gamma + beta (+ z if given), then relu(y) if asked;
// gamma, beta and z may be null; scale is scratch for c floats.
cudaError_t bn_normalize(cudaStream_t s, float* y, const float* x, const float* z,
                         const float* mean, const float* var, const float* gamma,
                         const float* beta, bool relu, float* scale, int64_t rows, int64_t c,
                         float eps);
// From s_dy and s_dyd: dbeta, dgamma and dx (each may be null); coeff is scratch for 3c
// floats; relu_scale / relu_beta as for bn_grad_sums (null: no relu).
cudaError_t bn_backward(cudaStream_t s, float* dx, float* dgamma, float* dbeta, const float* dy,
                        const float* x, const float* mean, const float* var, const float* gamma,
                        const float* s_dy, const float* s_dyd, const float* relu_scale,
                        const float* relu_beta, float* coeff, int64_t rows, int64_t c, float eps);

// ---- softmax.cu: over the last axis of [rows, cols]
cudaError_t softmax(cudaStream_t s, float* y, const float* x, int64_t rows, int64_t cols,
                    bool log);
cudaError_t softmax_backward(cudaStream_t s, float* dx, const float* dy, const float* y,
                             int64_t rows, int64_t cols, bool log);
// bad: host-mapped [flag, label, row, cols], set for a label outside [0, cols) (may be null).
cudaError_t sparse_xent(cudaStream_t s, float* loss, float* dlogits, const float* logits,
                        const int32_t* labels, int64_t rows, int64_t cols, int* bad);

// ---- transform.cu: ImageProjectiveTransformV3 (see core/projective.h)
cudaError_t projective_transform(cudaStream_t s, float* out, const float* images,
                                 const float* transforms, const ProjectiveParams& p);

// ---- image.cu: NHWC
struct ResizeDesc {
  int64_t n, in_h, in_w, c, out_h, out_w;
  float scale_h, scale_w;
  bool half_pixel;
};
cudaError_t resize_bilinear(cudaStream_t s, float* y, const float* x, const ResizeDesc& d);
cudaError_t resize_bilinear_backward(cudaStream_t s, float* dx, const float* dy,
                                     const ResizeDesc& d);  // zeroes dx first

// ---- pool.cu: NHWC 2-D max / average pooling (per-thread code in pool_body.h)
struct PoolDesc {
  bool max;
  int64_t n, in_h, in_w, c, out_h, out_w, k_h, k_w, stride_h, stride_w, pad_top, pad_left;
};
cudaError_t pool_forward(cudaStream_t s, float* y, const float* x, const PoolDesc& d);
// Writes every element of dx (Note [pooling backward by gather]). Max pooling needs
// argmax_scratch of pool_backward_scratch(d) bytes (none for average pooling).
size_t pool_backward_scratch(const PoolDesc& d);
cudaError_t pool_backward(cudaStream_t s, float* dx, const float* dy, const float* x,
                          int* argmax_scratch, const PoolDesc& d);
// y[o] = src at the first maximum of x in window o (max pooling's second derivative).
cudaError_t max_pool_gather(cudaStream_t s, float* y, const float* src, const float* x,
                            const PoolDesc& d);

// ---- lrn.cu: local response normalization across the last axis of [rows, c]
struct LRNDesc {
  int64_t rows, c, depth_radius;
  float bias, alpha, beta;
};
cudaError_t lrn_forward(cudaStream_t s, float* y, const float* x, const LRNDesc& d);
// y is the forward output; scratch holds rows * c floats.
cudaError_t lrn_backward(cudaStream_t s, float* dx, float* scratch, const float* dy,
                         const float* x, const float* y, const LRNDesc& d);

// ---- random.cu (the generator of counter_rng.h)
cudaError_t dropout_mask(cudaStream_t s, float* mask, int64_t n, float rate, uint64_t seed);
cudaError_t random(cudaStream_t s, float* out, int64_t n, bool normal, float a, float b,
                   uint64_t seed);

// ---- optimizer.cu (Keras 3 update rules); `coef` is 8 floats of device scratch
cudaError_t sgd_update(cudaStream_t s, float* w, float* velocity, const float* g, int64_t n,
                       float lr, float momentum, bool nesterov);
cudaError_t adam_update(cudaStream_t s, float* w, float* m, float* v, const float* g, int64_t n,
                        float lr, float beta1, float beta2, float epsilon, const float* step,
                        bool nadam, float* coef);
cudaError_t moving_average(cudaStream_t s, float* v, const float* x, int64_t n, float momentum,
                           float rest);
cudaError_t rmsprop_update(cudaStream_t s, float* w, float* ms, float* mom, float* mg,
                           const float* g, int64_t n, float lr, float rho, float momentum,
                           float epsilon);

}  // namespace k
}  // namespace cuda
}  // namespace cn
