// CudaBackend elementwise methods: unary ops and gradients, broadcasting binary ops,
// select, cast and fill, on kernels/elementwise.cu.
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {

std::string n_ctx(const char* op, int64_t n) { return std::string(op) + " n=" + std::to_string(n); }

// True when an operand is not broadcast along any axis, so its index is the output's.
bool full_shape(const int64_t* strides, const BroadcastParams& p) {
  for (int i = 0; i < p.rank; ++i)
    if (strides[i] == 0 && p.out_shape[i] != 1) return false;
  return true;
}

}  // namespace

Status CudaBackend::unary(float* y, const float* x, int64_t n, UnaryOp op, float alpha) {
  if (n < 0) return invalid_argument("unary: negative size");
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::unary(stream_, y, x, n, (int)op, alpha),
                  n_ctx("unary", n) + " op " + std::to_string((int)op));
  return Status::ok();
}

Status CudaBackend::unary_grad(float* dx, const float* dy, const float* ref, int64_t n,
                               UnaryGradOp op, float alpha) {
  if (n < 0) return invalid_argument("unary_grad: negative size");
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::unary_grad(stream_, dx, dy, ref, n, (int)op, alpha),
                  n_ctx("unary_grad", n) + " op " + std::to_string((int)op));
  return Status::ok();
}

Status CudaBackend::binary(void* out, const void* a, const void* b, DType dtype, BinaryOp op,
                           const BroadcastParams& p) {
  if (dtype != DType::kFloat32 && dtype != DType::kInt32)
    return invalid_argument(std::string("binary: unsupported dtype ") + dtype_name(dtype));
  if (p.rank < 0 || p.rank > kMaxRank) return invalid_argument("binary: bad rank");
  if (p.size == 0) return Status::ok();
  cuda::k::IndexMap map;
  // Fast paths: same shapes (0), a scalar against a full b (1), a full a against a scalar (2);
  // anything else indexes through the strides (3).
  int mode = 3;
  if (p.same_shape || (full_shape(p.a_strides, p) && full_shape(p.b_strides, p))) mode = 0;
  else if (p.a_scalar && full_shape(p.b_strides, p)) mode = 1;
  else if (p.b_scalar && full_shape(p.a_strides, p)) mode = 2;
  map.rank = p.rank;
  for (int i = 0; i < p.rank; ++i) {
    map.shape[i] = p.out_shape[i];
    map.a_strides[i] = p.a_strides[i];
    map.b_strides[i] = p.b_strides[i];
  }
  CN_LAUNCH_CHECK(cuda::k::binary(stream_, out, a, b, dtype == DType::kInt32, (int)op, p.size, mode, map),
                  n_ctx("binary", p.size) + " op " + std::to_string((int)op));
  return Status::ok();
}

Status CudaBackend::add_relu(float* out, const float* a, const float* b, int64_t n) {
  if (n <= 0) return n < 0 ? invalid_argument("add_relu: negative size") : Status::ok();
  CN_LAUNCH_CHECK(cuda::k::add_relu(stream_, out, a, b, n), n_ctx("add_relu", n));
  return Status::ok();
}

Status CudaBackend::add_relu_grad(float* dx, const float* g1, const float* g2, const float* ref,
                                  int64_t n) {
  if (n <= 0) return n < 0 ? invalid_argument("add_relu_grad: negative size") : Status::ok();
  CN_LAUNCH_CHECK(cuda::k::add_relu_grad(stream_, dx, g1, g2, ref, n), n_ctx("add_relu_grad", n));
  return Status::ok();
}

Status CudaBackend::select(float* out, const float* cond, const float* a, const float* b,
                           int64_t n) {
  if (n <= 0) return n < 0 ? invalid_argument("select: negative size") : Status::ok();
  CN_LAUNCH_CHECK(cuda::k::select(stream_, out, cond, a, b, n), n_ctx("select", n));
  return Status::ok();
}

Status CudaBackend::cast(void* out, DType out_dtype, const void* in, DType in_dtype, int64_t n) {
  if (n <= 0) return n < 0 ? invalid_argument("cast: negative size") : Status::ok();
  if (out_dtype == in_dtype) return copy(out, in, (size_t)n * dtype_size(in_dtype));
  CN_LAUNCH_CHECK(cuda::k::cast(stream_, out, (int)out_dtype, in, (int)in_dtype, n),
                  n_ctx("cast", n) + " " + dtype_name(in_dtype) + " -> " + dtype_name(out_dtype));
  return Status::ok();
}

Status CudaBackend::fill(void* out, DType dtype, double value, int64_t n) {
  if (n <= 0) return n < 0 ? invalid_argument("fill: negative size") : Status::ok();
  if (value == 0.0) {  // all-zero bytes for every dtype
    CN_CUDA_CHECK(cudaMemsetAsync(out, 0, (size_t)n * dtype_size(dtype), stream_), n_ctx("fill", n));
    return Status::ok();
  }
  CN_LAUNCH_CHECK(cuda::k::fill(stream_, out, (int)dtype, value, n), n_ctx("fill", n));
  return Status::ok();
}

}  // namespace cn
