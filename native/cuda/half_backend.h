// CudaReducedPrecision: the cuda backend's bfloat16 / float16 primitives
// (ReducedPrecisionOps, native/core/reduced_precision.h), so that the typed kernels of
// native/ops/bf16_kernels.cc run on cuda. Defined across half_backend.cc (casts, unary and
// binary ops, softmax, pooling: our own kernels templated on the storage type,
// kernels/reduced_kernels.h), half_norm.cc (batch norm), half_movement.cc (data movement,
// Sum / Mean), half_conv.cc (cuDNN convolutions) and half_matmul.cc (cuBLAS).
//
// Note [cuda reduced precision]: every primitive reads bf16 / fp16 storage and computes in
// float: cuDNN convolutions and cuBLAS GEMMs accumulate in float on tensor cores, our kernels
// widen on load and round once on store, batch norm keeps float32 statistics, parameters and
// parameter gradients. Outputs that the interface allows in float32 (a convolution's or a
// matmul's y, softmax's y, the filter gradient) are written in float32 by the same pass that
// finishes the result (the epilogue, the filter relayout), not by a separate cast.
#pragma once
#include <initializer_list>

#include "../core/reduced_precision.h"

namespace cn {

class CudaBackend;

class CudaReducedPrecision final : public ReducedPrecisionOps {
 public:
  explicit CudaReducedPrecision(CudaBackend* b) : b_(b) {}
  // Both, on every GPU this build runs on (sm_80 and later: tensor cores for both types).
  bool computes(DType dtype) const override { return dtype == DType::kBFloat16 || dtype == DType::kFloat16; }
  // "sm_90": the device's compute capability, which decides the tensor-core kernels.
  std::string isa() const override;
  bool native_bf16() const override;  // compute capability 8.0 or later
  bool native_fp16() const override;  // 7.0 or later

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

  // The optional primitives (Note [optional reduced-precision primitives] in
  // core/reduced_precision.h): depthwise convolutions (half_conv.cc), 2-byte data movement
  // and Sum / Mean (half_movement.cc), the fusion pass's residual join (half_backend.cc) and
  // batch norm's fused forms (half_norm.cc).
  Status depthwise_conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias, const Conv2DParams& p) override;
  Status depthwise_conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) override;
  Status depthwise_conv2d_backward_filter(TypedPtr dw, TypedPtr x, TypedPtr dy, const Conv2DParams& p) override;
  Status transpose(TypedPtr out, TypedPtr in, const TransposeParams& p) override;
  Status copy_slab(TypedPtr out, TypedPtr in, int64_t outer, int64_t in_axis, int64_t out_axis, int64_t offset,
                   int64_t inner, bool into_out) override;
  Status slice(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& begin, const Shape& size) override;
  Status pad(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& before, const Shape& after,
             float value) override;
  Status reduce(TypedPtr out, TypedPtr in, ReduceOp op, const Shape& in_shape,
                const std::vector<int64_t>& axes) override;
  Status add_relu(TypedPtr out, TypedPtr a, TypedPtr b, int64_t n) override;
  Status add_relu_grad(TypedPtr dx, TypedPtr g1, TypedPtr g2, TypedPtr ref, int64_t n) override;
  Status batchnorm_forward_training_fused(TypedPtr y, float* mean, float* var, TypedPtr x, const float* gamma,
                                          const float* beta, TypedPtr residual, const BatchNormParams& p) override;
  Status batchnorm_forward_inference_fused(TypedPtr y, TypedPtr x, const float* gamma, const float* beta,
                                           const float* mean, const float* var, TypedPtr residual,
                                           const BatchNormParams& p) override;
  Status batchnorm_backward_relu(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                                 const float* gamma, const float* beta, const float* mean, const float* var,
                                 const BatchNormParams& p) override;

 private:
  CudaBackend* b_;
};

namespace cuda {
// Checks that t is present and of one of the dtypes in `allowed` (a clear error naming op and
// argument otherwise): the typed kernels check dtypes first, this keeps a direct caller from
// handing a kernel bytes of another type.
Status expect_typed(const char* op, const char* arg, const TypedPtr& t, std::initializer_list<DType> allowed);
}  // namespace cuda

}  // namespace cn
