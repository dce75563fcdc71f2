// ReducedPrecisionOps: the primitives a backend runs on bfloat16 / float16 storage.
// Every pointer comes with its element type (TypedPtr), so one primitive can read one type
// and write another (Note [casts inside primitives] in native/cpu/bf16_backend.h). A backend
// offers these through Backend::reduced_precision(); the cuda backend offers none yet, so
// the typed-kernel dispatch (native/ops/typed_kernels.h) refuses bf16/fp16 there.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backend.h"
#include "params.h"
#include "shape.h"
#include "status.h"

namespace cn {

// A backend pointer and the element type stored there (data null: operand absent).
struct TypedPtr {
  void* data = nullptr;
  DType dtype = DType::kFloat32;
  TypedPtr() = default;
  TypedPtr(void* d, DType t) : data(d), dtype(t) {}
  TypedPtr(const void* d, DType t) : data(const_cast<void*>(d)), dtype(t) {}
  explicit operator bool() const { return data != nullptr; }
};

class ReducedPrecisionOps {
 public:
  virtual ~ReducedPrecisionOps() = default;

  // Whether kernels on dtype (kBFloat16 or kFloat16) compute here; storage and casts are
  // available for both whenever the backend has a ReducedPrecisionOps.
  virtual bool computes(DType dtype) const = 0;
  // The instruction set the primitives dispatch to ("avx512_core_bf16", ...), and whether
  // it has native bf16 / fp16 arithmetic (else the library emulates it, correctly, slower).
  virtual std::string isa() const = 0;
  virtual bool native_bf16() const = 0;
  virtual bool native_fp16() const = 0;

  // Elementwise conversion, round to nearest even, NaN and infinities preserved.
  virtual Status cast(TypedPtr out, TypedPtr in, int64_t n) = 0;

  // Convolution over NHWC (HWIO filter; p.depthwise false: depthwise has its own entry
  // points below, so an implementation of these never meets an HWCM filter). Forward: x and w of one type, y of any, bias f32 or
  // x's type. Backward data: dy and w of one type, dx of any. Backward filter: x and dy of
  // one type, dw and dbias (may be absent) of any.
  virtual Status conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias,
                                const Conv2DParams& p) = 0;
  virtual Status conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w,
                                      const Conv2DParams& p) = 0;
  virtual Status conv2d_backward_filter(TypedPtr dw, TypedPtr dbias, TypedPtr x, TypedPtr dy,
                                        const Conv2DParams& p) = 0;

  virtual Status matmul(TypedPtr c, TypedPtr a, TypedPtr b, TypedPtr bias,
                        const MatMulParams& p) = 0;

  virtual Status pool2d_forward(TypedPtr y, TypedPtr x, const Pool2DParams& p) = 0;
  virtual Status pool2d_backward(TypedPtr dx, TypedPtr dy, TypedPtr x, const Pool2DParams& p) = 0;

  // Eltwise ops with a library primitive (returns not_supported for the others).
  virtual Status unary(TypedPtr y, TypedPtr x, int64_t n, UnaryOp op, float alpha) = 0;
  virtual Status unary_grad(TypedPtr dx, TypedPtr dy, TypedPtr ref, int64_t n, UnaryGradOp op,
                            float alpha) = 0;
  // Same-shape or broadcast binary arithmetic (kAdd, kSub, kMul, kDiv, kMaximum, kMinimum).
  virtual Status binary(TypedPtr out, TypedPtr a, TypedPtr b, BinaryOp op,
                        const Shape& a_shape, const Shape& b_shape, const Shape& out_shape) = 0;

  virtual Status softmax(TypedPtr y, TypedPtr x, int64_t rows, int64_t cols, bool log) = 0;
  virtual Status softmax_backward(TypedPtr dx, TypedPtr dy, TypedPtr y, int64_t rows,
                                  int64_t cols, bool log) = 0;

  // Batch norm with x / y (and dy / dx) in the reduced type and gamma, beta, the statistics
  // and the parameter gradients in float32 (gamma / beta may be absent: 1 / 0).
  virtual Status batchnorm_forward_training(TypedPtr y, float* mean, float* var, TypedPtr x,
                                            const float* gamma, const float* beta,
                                            const BatchNormParams& p) = 0;
  virtual Status batchnorm_forward_inference(TypedPtr y, TypedPtr x, const float* gamma,
                                             const float* beta, const float* mean,
                                             const float* var, const BatchNormParams& p) = 0;
  virtual Status batchnorm_backward(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy,
                                    TypedPtr x, const float* gamma, const float* mean,
                                    const float* var, const BatchNormParams& p) = 0;

  // Note [optional reduced-precision primitives]: the methods below came after the first
  // set; each has a body that refuses, so a backend implementing ReducedPrecisionOps (cuda's)
  // keeps compiling and refuses them with ERR_NOT_SUPPORTED until it overrides them.

  // Data movement on 2-byte elements (in and out of one dtype), bit for bit, with the
  // Backend's semantics (transpose, copy_slab, slice, pad; pad's value rounds to the dtype).
  virtual Status transpose(TypedPtr out, TypedPtr in, const TransposeParams& p) {
    return refuse("transpose", in.dtype);
  }
  virtual Status copy_slab(TypedPtr out, TypedPtr in, int64_t outer, int64_t in_axis, int64_t out_axis,
                           int64_t offset, int64_t inner, bool into_out) {
    return refuse("copy_slab", in.dtype);
  }
  virtual Status slice(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& begin, const Shape& size) {
    return refuse("slice", in.dtype);
  }
  virtual Status pad(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& before, const Shape& after,
                     float value) {
    return refuse("pad", in.dtype);
  }
  // Sum / mean of in (shape in_shape) over the sorted, unique, non-empty axes; out has the
  // shape with those axes kept as 1 (any dtype: the cpu reads bf16 and writes float32).
  virtual Status reduce(TypedPtr out, TypedPtr in, ReduceOp op, const Shape& in_shape,
                        const std::vector<int64_t>& axes) {
    return refuse("reduce", in.dtype);
  }
  // Depthwise convolution (p.depthwise, HWCM filter), with the operand rules of conv2d_*.
  virtual Status depthwise_conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias, const Conv2DParams& p) {
    return refuse("depthwise_conv2d_forward", x.dtype);
  }
  virtual Status depthwise_conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) {
    return refuse("depthwise_conv2d_backward_data", dy.dtype);
  }
  virtual Status depthwise_conv2d_backward_filter(TypedPtr dw, TypedPtr x, TypedPtr dy, const Conv2DParams& p) {
    return refuse("depthwise_conv2d_backward_filter", x.dtype);
  }
  // The plan fusion's residual join (Backend::add_relu / add_relu_grad): out = relu(a + b);
  // dx = g1 + g2 where ref > 0, else 0. One dtype for all, n elements each.
  virtual Status add_relu(TypedPtr out, TypedPtr a, TypedPtr b, int64_t n) { return refuse("add_relu", a.dtype); }
  virtual Status add_relu_grad(TypedPtr dx, TypedPtr g1, TypedPtr g2, TypedPtr ref, int64_t n) {
    return refuse("add_relu_grad", g1.dtype);
  }
  // Batch norm's fused forms (Note [batch norm + add + relu] in core/params.h): p.relu, and
  // a residual (may be absent) of x's dtype added before the relu. The backward of the relu
  // form takes beta (may be null: 0) to recompute the relu mask.
  virtual Status batchnorm_forward_training_fused(TypedPtr y, float* mean, float* var, TypedPtr x,
                                                  const float* gamma, const float* beta, TypedPtr residual,
                                                  const BatchNormParams& p) {
    return refuse("batchnorm_forward_training (fused)", x.dtype);
  }
  virtual Status batchnorm_forward_inference_fused(TypedPtr y, TypedPtr x, const float* gamma, const float* beta,
                                                   const float* mean, const float* var, TypedPtr residual,
                                                   const BatchNormParams& p) {
    return refuse("batchnorm_forward_inference (fused)", x.dtype);
  }
  virtual Status batchnorm_backward_relu(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                                         const float* gamma, const float* beta, const float* mean,
                                         const float* var, const BatchNormParams& p) {
    return refuse("batchnorm_backward (fused relu)", x.dtype);
  }

 protected:
  static Status refuse(const char* op, DType t) {
    return not_supported(std::string(op) + ": dtype " + dtype_name(t) + " is not supported by this backend yet");
  }
};

}  // namespace cn
