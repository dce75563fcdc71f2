// CudaReducedPrecision matmul (half_backend.h): C[batch, m, n] = op(A) op(B) (+ bias, ReLU)
// with A and B in bfloat16 / float16, on cuBLAS (cublasGemmStridedBatchedEx with
// CUDA_R_16BF / CUDA_R_16F inputs and CUBLAS_COMPUTE_32F: tensor cores, float accumulation),
// row-major through Note [row-major via column-major] of matmul.cc.
//
// Note [reduced-precision matmul output]: cuBLAS writes C in A's type or in float32, so a
// plain product goes straight to c, in either. With a bias or ReLU the product goes to
// float32 (c itself, or scratch when c is reduced) and the epilogue pass (k::rp_bias_act,
// bias float32 or reduced) adds the bias in float and rounds once, as the cpu's oneDNN
// primitive does, instead of rounding the product and then the sum.
#include <climits>

#include "cuda_backend.h"
#include "half_backend.h"
#include "kernels/reduced_kernels.h"

namespace cn {

Status CudaReducedPrecision::matmul(TypedPtr c, TypedPtr a, TypedPtr b, TypedPtr bias, const MatMulParams& p) {
  using cuda::expect_typed;
  const char* op = "matmul";
  CN_RETURN_IF_ERROR(expect_typed(op, "a", a, {DType::kBFloat16, DType::kFloat16}));
  const DType t = a.dtype;
  CN_RETURN_IF_ERROR(expect_typed(op, "b", b, {t}));
  CN_RETURN_IF_ERROR(expect_typed(op, "c", c, {t, DType::kFloat32}));
  if (p.has_bias) CN_RETURN_IF_ERROR(expect_typed(op, "bias", bias, {DType::kFloat32, t}));
  std::string shapes = "batch=" + std::to_string(p.batch) + " m=" + std::to_string(p.m) + " n=" +
                       std::to_string(p.n) + " k=" + std::to_string(p.k) + (p.trans_a ? " transA" : "") +
                       (p.trans_b ? " transB" : "") + (p.a_batched ? "" : " A broadcast") +
                       (p.b_batched ? "" : " B broadcast") + " " + dtype_name(t);
  if (p.batch < 0 || p.m < 0 || p.n < 0 || p.k < 0) return invalid_argument("matmul: negative size " + shapes);
  if (p.m > INT_MAX || p.n > INT_MAX || p.k > INT_MAX || p.batch > INT_MAX)
    return invalid_argument("matmul: dimension too large for cuBLAS " + shapes);
  if (p.batch == 0 || p.m == 0 || p.n == 0) return Status::ok();
  const bool epilogue = p.has_bias || p.relu;
  const int64_t count = p.batch * p.m * p.n;
  // Note [reduced-precision matmul output]
  cuda::Scratch acc;
  void* prod = c.data;
  DType prod_type = c.dtype;
  if (epilogue && c.dtype != DType::kFloat32) {
    CN_RETURN_IF_ERROR(b_->scratch(&acc, sizeof(float) * count));
    prod = acc.get();
    prod_type = DType::kFloat32;
  }
  if (p.k == 0) {  // empty sum
    CN_CUDA_CHECK(cudaMemsetAsync(prod, 0, dtype_size(prod_type) * count, b_->stream()), shapes);
  } else {
    const int m = (int)p.m, n = (int)p.n, k = (int)p.k;
    const cublasOperation_t op_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int ldb = p.trans_b ? k : n, lda = p.trans_a ? m : k;
    const long long stride_b = p.b_batched ? (long long)k * n : 0, stride_a = p.a_batched ? (long long)m * k : 0;
    const cudaDataType in_type = t == DType::kBFloat16 ? CUDA_R_16BF : CUDA_R_16F;
    const cudaDataType out_type = prod_type == DType::kFloat32 ? CUDA_R_32F : in_type;
    const float one = 1.f, zero = 0.f;
    CN_CUBLAS_CHECK(cuda::cublas().cublasGemmStridedBatchedEx(
                        b_->cublas_handle(), op_b, op_a, n, m, k, &one, b.data, in_type, ldb, stride_b, a.data,
                        in_type, lda, stride_a, &zero, prod, out_type, n, (long long)m * n, (int)p.batch,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    shapes);
  }
  if (epilogue)
    CN_LAUNCH_CHECK(cuda::k::rp_bias_act(b_->stream(), c.data, (int)c.dtype, prod, (int)prod_type,
                                         p.has_bias ? bias.data : nullptr, (int)bias.dtype, p.batch * p.m, p.n,
                                         p.relu),
                    "bias/relu " + shapes);
  return Status::ok();
}

}  // namespace cn
