// CpuReducedPrecision: the cpu backend's bfloat16 / float16 primitives on oneDNN 2.6
// (ReducedPrecisionOps, native/core/reduced_precision.h). Defined across bf16_backend.cc
// (ISA, casts, eltwise, binary, softmax), bf16_conv.cc (convolution, depthwise included, and
// matmul), bf16_pool_norm.cc (pooling, batch norm), bf16_movement.cc (transpose, concat,
// slice, pad) and bf16_reduce.cc (sum, mean).
//
// Note [casts inside primitives]: oneDNN primitives take a data type per operand, so a
// bf16 convolution writes its float32 weight gradient (and bias gradient) directly, a
// forward may write float32 y, batch norm reads bf16 x with float32 scale/shift/statistics,
// and binary ops read a float32 operand next to a bf16 one. No separate cast pass runs where
// a primitive can read or write the other type.
//
// Note [float16 on the cpu]: oneDNN 2.6 has no float16 compute kernels for x86 CPUs (its
// ISA list ends at avx512_core_amx; avx512_core_fp16 came later). float16 tensors are
// stored and cast (reorders), and every compute kernel refuses them with ERR_NOT_SUPPORTED.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include "../core/reduced_precision.h"

namespace cn {

class CpuReducedPrecision final : public ReducedPrecisionOps {
 public:
  // bf16 where oneDNN 2.6 has bf16 kernels: AVX-512 (native with avx512_core_bf16 / amx,
  // emulated on plain avx512_core); Note [bf16 below AVX-512] in bf16_backend.cc.
  bool computes(DType dtype) const override;
  std::string isa() const override;
  bool native_bf16() const override;
  bool native_fp16() const override { return false; }

  Status cast(TypedPtr out, TypedPtr in, int64_t n) override;
  Status conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias,
                        const Conv2DParams& p) override;
  Status conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) override;
  Status conv2d_backward_filter(TypedPtr dw, TypedPtr dbias, TypedPtr x, TypedPtr dy,
                                const Conv2DParams& p) override;
  Status matmul(TypedPtr c, TypedPtr a, TypedPtr b, TypedPtr bias, const MatMulParams& p) override;
  Status pool2d_forward(TypedPtr y, TypedPtr x, const Pool2DParams& p) override;
  Status pool2d_backward(TypedPtr dx, TypedPtr dy, TypedPtr x, const Pool2DParams& p) override;
  Status unary(TypedPtr y, TypedPtr x, int64_t n, UnaryOp op, float alpha) override;
  Status unary_grad(TypedPtr dx, TypedPtr dy, TypedPtr ref, int64_t n, UnaryGradOp op,
                    float alpha) override;
  Status binary(TypedPtr out, TypedPtr a, TypedPtr b, BinaryOp op, const Shape& a_shape,
                const Shape& b_shape, const Shape& out_shape) override;
  Status softmax(TypedPtr y, TypedPtr x, int64_t rows, int64_t cols, bool log) override;
  Status softmax_backward(TypedPtr dx, TypedPtr dy, TypedPtr y, int64_t rows, int64_t cols,
                          bool log) override;
  Status batchnorm_forward_training(TypedPtr y, float* mean, float* var, TypedPtr x,
                                    const float* gamma, const float* beta,
                                    const BatchNormParams& p) override;
  Status batchnorm_forward_inference(TypedPtr y, TypedPtr x, const float* gamma, const float* beta,
                                     const float* mean, const float* var,
                                     const BatchNormParams& p) override;
  Status batchnorm_backward(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                            const float* gamma, const float* mean, const float* var,
                            const BatchNormParams& p) override;
  // bf16_conv.cc: depthwise, on the same code as conv2d_* (which take p.depthwise)
  Status depthwise_conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias, const Conv2DParams& p) override;
  Status depthwise_conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) override;
  Status depthwise_conv2d_backward_filter(TypedPtr dw, TypedPtr x, TypedPtr dy, const Conv2DParams& p) override;
  // bf16_backend.cc: the residual join's add + relu
  Status add_relu(TypedPtr out, TypedPtr a, TypedPtr b, int64_t n) override;
  Status add_relu_grad(TypedPtr dx, TypedPtr g1, TypedPtr g2, TypedPtr ref, int64_t n) override;
  // bf16_pool_norm.cc: batch norm's relu / residual forms
  Status batchnorm_forward_training_fused(TypedPtr y, float* mean, float* var, TypedPtr x, const float* gamma,
                                          const float* beta, TypedPtr residual, const BatchNormParams& p) override;
  Status batchnorm_forward_inference_fused(TypedPtr y, TypedPtr x, const float* gamma, const float* beta,
                                           const float* mean, const float* var, TypedPtr residual,
                                           const BatchNormParams& p) override;
  Status batchnorm_backward_relu(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x, const float* gamma,
                                 const float* beta, const float* mean, const float* var,
                                 const BatchNormParams& p) override;
  // bf16_movement.cc (bfloat16 and float16: 2-byte moves)
  Status transpose(TypedPtr out, TypedPtr in, const TransposeParams& p) override;
  Status copy_slab(TypedPtr out, TypedPtr in, int64_t outer, int64_t in_axis, int64_t out_axis, int64_t offset,
                   int64_t inner, bool into_out) override;
  Status slice(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& begin, const Shape& size) override;
  Status pad(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& before, const Shape& after,
             float value) override;
  // bf16_reduce.cc
  Status reduce(TypedPtr out, TypedPtr in, ReduceOp op, const Shape& in_shape,
                const std::vector<int64_t>& axes) override;
};

namespace cpu {
// oneDNN's data type for a dtype (f32, bf16, f16, s32, u8).
dnnl::memory::data_type dnnl_type(DType d);
}  // namespace cpu

}  // namespace cn
