// CudaReducedPrecision (half_backend.h): the device's capability, casts, unary and binary
// ops (and the residual join add + relu), softmax and pooling on bfloat16 / float16 storage,
// each one launch of the kernels in kernels/reduced_kernels.h. Batch norm is in
// half_norm.cc, data movement and reductions in half_movement.cc, convolutions in
// half_conv.cc, matmul in half_matmul.cc.
#include "half_backend.h"

#include "cuda_backend.h"
#include "cuda_probe.h"
#include "kernels/reduced_kernels.h"

namespace cn {

namespace cuda {

Status expect_typed(const char* op, const char* arg, const TypedPtr& t, std::initializer_list<DType> allowed) {
  std::string names;
  for (DType d : allowed) {
    if (t && t.dtype == d) return Status::ok();
    names += std::string(names.empty() ? "" : " or ") + dtype_name(d);
  }
  if (!t) return invalid_argument(std::string(op) + ": expected " + arg + " (" + names + ") but received none");
  return invalid_argument(std::string(op) + ": expected " + arg + " of dtype " + names + " but received " +
                          dtype_name(t.dtype));
}

}  // namespace cuda

namespace {

using cuda::expect_typed;
constexpr DType kF32 = DType::kFloat32;

// The reduced dtype of x (an error where it is not bfloat16 / float16).
Status reduced_dtype(const char* op, const char* arg, const TypedPtr& x, DType* t) {
  CN_RETURN_IF_ERROR(expect_typed(op, arg, x, {DType::kBFloat16, DType::kFloat16}));
  *t = x.dtype;
  return Status::ok();
}

std::string n_ctx(const char* op, int64_t n, DType t) {
  return std::string(op) + " n=" + std::to_string(n) + " " + dtype_name(t);
}

}  // namespace

std::string CudaReducedPrecision::isa() const {
  const CudaInfo ci = cuda_probe();
  return "sm_" + std::to_string(ci.cc_major) + std::to_string(ci.cc_minor);
}
bool CudaReducedPrecision::native_bf16() const { return cuda_probe().cc_major >= 8; }
bool CudaReducedPrecision::native_fp16() const { return cuda_probe().cc_major >= 7; }

Status CudaReducedPrecision::cast(TypedPtr out, TypedPtr in, int64_t n) {
  const auto types = {kF32, DType::kBFloat16, DType::kFloat16};
  CN_RETURN_IF_ERROR(expect_typed("cast", "out", out, types));
  CN_RETURN_IF_ERROR(expect_typed("cast", "in", in, types));
  if (n < 0) return invalid_argument("cast: negative size");
  if (n == 0) return Status::ok();
  if (out.dtype == in.dtype) return b_->copy(out.data, in.data, (size_t)n * dtype_size(in.dtype));
  CN_LAUNCH_CHECK(cuda::k::rp_cast(b_->stream(), out.data, (int)out.dtype, in.data, (int)in.dtype, n),
                  std::string("cast n=") + std::to_string(n) + " " + dtype_name(in.dtype) + " -> " +
                      dtype_name(out.dtype));
  return Status::ok();
}

Status CudaReducedPrecision::unary(TypedPtr y, TypedPtr x, int64_t n, UnaryOp op, float alpha) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("unary", "x", x, &t));
  CN_RETURN_IF_ERROR(expect_typed("unary", "y", y, {t}));
  if (n < 0) return invalid_argument("unary: negative size");
  CN_LAUNCH_CHECK(cuda::k::rp_unary(b_->stream(), y.data, x.data, (int)t, n, (int)op, alpha),
                  n_ctx("unary", n, t) + " op " + std::to_string((int)op));
  return Status::ok();
}

Status CudaReducedPrecision::unary_grad(TypedPtr dx, TypedPtr dy, TypedPtr ref, int64_t n, UnaryGradOp op,
                                        float alpha) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("unary_grad", "dy", dy, &t));
  CN_RETURN_IF_ERROR(expect_typed("unary_grad", "ref", ref, {t}));
  CN_RETURN_IF_ERROR(expect_typed("unary_grad", "dx", dx, {t}));
  if (n < 0) return invalid_argument("unary_grad: negative size");
  CN_LAUNCH_CHECK(cuda::k::rp_unary_grad(b_->stream(), dx.data, dy.data, ref.data, (int)t, n, (int)op, alpha),
                  n_ctx("unary_grad", n, t) + " op " + std::to_string((int)op));
  return Status::ok();
}

Status CudaReducedPrecision::binary(TypedPtr out, TypedPtr a, TypedPtr b, BinaryOp op, const Shape& a_shape,
                                    const Shape& b_shape, const Shape& out_shape) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("binary", "out", out, &t));
  CN_RETURN_IF_ERROR(expect_typed("binary", "a", a, {t, kF32}));
  CN_RETURN_IF_ERROR(expect_typed("binary", "b", b, {t, kF32}));
  BroadcastParams p;
  CN_RETURN_IF_ERROR(make_broadcast_params(&p, a_shape, b_shape));
  if (Shape(p.out_shape, p.out_shape + p.rank) != out_shape)
    return invalid_argument("binary: expected out of shape " + shape_str(Shape(p.out_shape, p.out_shape + p.rank)) +
                            " but received " + shape_str(out_shape));
  if (p.rank > 8) return invalid_argument("binary: rank " + std::to_string(p.rank) + " above 8");
  cuda::k::ew::Map map;
  map.rank = p.rank;
  for (int i = 0; i < p.rank; ++i) {
    map.shape[i] = p.out_shape[i];
    map.a_strides[i] = p.a_strides[i];
    map.b_strides[i] = p.b_strides[i];
  }
  CN_LAUNCH_CHECK(cuda::k::rp_binary(b_->stream(), out.data, (int)t, a.data, (int)a.dtype, b.data, (int)b.dtype,
                                     (int)op, p.size, map),
                  n_ctx("binary", p.size, t) + " op " + std::to_string((int)op));
  return Status::ok();
}

Status CudaReducedPrecision::softmax(TypedPtr y, TypedPtr x, int64_t rows, int64_t cols, bool log) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("softmax", "x", x, &t));
  CN_RETURN_IF_ERROR(expect_typed("softmax", "y", y, {t, kF32}));
  if (rows < 0 || cols < 0) return invalid_argument("softmax: negative size");
  CN_LAUNCH_CHECK(cuda::k::rp_softmax(b_->stream(), y.data, (int)y.dtype, x.data, (int)t, rows, cols, log),
                  n_ctx(log ? "log_softmax" : "softmax", rows * cols, t));
  return Status::ok();
}

Status CudaReducedPrecision::softmax_backward(TypedPtr dx, TypedPtr dy, TypedPtr y, int64_t rows, int64_t cols,
                                              bool log) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("softmax_backward", "dy", dy, &t));
  CN_RETURN_IF_ERROR(expect_typed("softmax_backward", "y", y, {t}));
  CN_RETURN_IF_ERROR(expect_typed("softmax_backward", "dx", dx, {t}));
  if (rows < 0 || cols < 0) return invalid_argument("softmax_backward: negative size");
  CN_LAUNCH_CHECK(cuda::k::rp_softmax_backward(b_->stream(), dx.data, dy.data, y.data, (int)t, rows, cols, log),
                  n_ctx("softmax_backward", rows * cols, t));
  return Status::ok();
}

namespace {

Status pool_desc(const char* op, const Pool2DParams& p, cuda::k::PoolDesc* d) {
  CN_RETURN_IF_ERROR(validate_pool2d_params(op, p));
  *d = {p.kind == PoolKind::kMax, p.n, p.in_h, p.in_w, p.c, p.out_h, p.out_w, p.k_h, p.k_w,
        p.stride_h, p.stride_w, p.pad_top, p.pad_left};
  return Status::ok();
}

}  // namespace

Status CudaReducedPrecision::pool2d_forward(TypedPtr y, TypedPtr x, const Pool2DParams& p) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("pool2d_forward", "x", x, &t));
  CN_RETURN_IF_ERROR(expect_typed("pool2d_forward", "y", y, {t}));
  cuda::k::PoolDesc d;
  CN_RETURN_IF_ERROR(pool_desc("pool2d_forward", p, &d));
  CN_LAUNCH_CHECK(cuda::k::rp_pool_forward(b_->stream(), y.data, x.data, (int)t, d),
                  "pool2d_forward " + pool2d_shapes(p) + " " + dtype_name(t));
  return Status::ok();
}

Status CudaReducedPrecision::pool2d_backward(TypedPtr dx, TypedPtr dy, TypedPtr x, const Pool2DParams& p) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("pool2d_backward", "x", x, &t));
  CN_RETURN_IF_ERROR(expect_typed("pool2d_backward", "dy", dy, {t}));
  CN_RETURN_IF_ERROR(expect_typed("pool2d_backward", "dx", dx, {t}));
  cuda::k::PoolDesc d;
  CN_RETURN_IF_ERROR(pool_desc("pool2d_backward", p, &d));
  cuda::Scratch at;  // max pooling's per-window argmax (Note [pooling backward by gather])
  CN_RETURN_IF_ERROR(b_->scratch(&at, cuda::k::pool_backward_scratch(d)));
  CN_LAUNCH_CHECK(cuda::k::rp_pool_backward(b_->stream(), dx.data, dy.data, x.data, (int)t,
                                            static_cast<int*>(at.get()), d),
                  "pool2d_backward " + pool2d_shapes(p) + " " + dtype_name(t));
  return Status::ok();
}

Status CudaReducedPrecision::add_relu(TypedPtr out, TypedPtr a, TypedPtr b, int64_t n) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("add_relu", "a", a, &t));
  CN_RETURN_IF_ERROR(expect_typed("add_relu", "b", b, {t}));
  CN_RETURN_IF_ERROR(expect_typed("add_relu", "out", out, {t}));
  if (n < 0) return invalid_argument("add_relu: negative size");
  CN_LAUNCH_CHECK(cuda::k::rp_add_relu(b_->stream(), out.data, a.data, b.data, (int)t, n), n_ctx("add_relu", n, t));
  return Status::ok();
}

Status CudaReducedPrecision::add_relu_grad(TypedPtr dx, TypedPtr g1, TypedPtr g2, TypedPtr ref, int64_t n) {
  DType t;
  CN_RETURN_IF_ERROR(reduced_dtype("add_relu_grad", "g1", g1, &t));
  CN_RETURN_IF_ERROR(expect_typed("add_relu_grad", "g2", g2, {t}));
  CN_RETURN_IF_ERROR(expect_typed("add_relu_grad", "ref", ref, {t}));
  CN_RETURN_IF_ERROR(expect_typed("add_relu_grad", "dx", dx, {t}));
  if (n < 0) return invalid_argument("add_relu_grad: negative size");
  CN_LAUNCH_CHECK(cuda::k::rp_add_relu_grad(b_->stream(), dx.data, g1.data, g2.data, ref.data, (int)t, n),
                  n_ctx("add_relu_grad", n, t));
  return Status::ok();
}

}  // namespace cn

namespace cn {

const ReducedPrecisionOps* cuda_reduced_precision_info() {
  if (!cuda_probe().available) return nullptr;
  static const CudaReducedPrecision info(nullptr);  // capability only: never runs a kernel
  return &info;
}

ReducedPrecisionOps* CudaBackend::reduced_precision() {
  if (!reduced_) reduced_.reset(new CudaReducedPrecision(this));
  return reduced_.get();
}

}  // namespace cn
