// ReducedPrecisionOps: the primitives a backend runs on bfloat16 / float16 storage.
// Every pointer comes with its element type (TypedPtr), so one primitive can read one type
// and write another (Note [casts inside primitives] in native/cpu/bf16_backend.h). A backend
// offers these through Backend::reduced_precision(); the cuda backend offers none yet, so
// the typed-kernel dispatch (native/ops/typed_kernels.h) refuses bf16/fp16 there.
#pragma once
#include <cstdint>
#include <string>

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

  // Convolution over NHWC (HWIO filter). Forward: x and w of one type, y of any, bias f32 or
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
};

}  // namespace cn
