// CudaBackend matmul on cuBLAS: C[batch, m, n] = op(A) * op(B) (+ bias[n], ReLU), row-major,
// with batch broadcasting, TF32 by default (strict fp32 on request).
//
// Note [API choice: matmul]: cublasGemmStridedBatchedEx covers single and batched products
// and broadcasting (stride 0) in one call; cuBLASLt's bias/ReLU epilogues would save the
// extra elementwise pass but need a matmul descriptor and a heuristic query per shape. The
// pass (k::bias_act) is cheap next to the GEMM; Lt is the upgrade path, in this file only.
//
// Note [row-major via column-major]: cuBLAS is column-major. A row-major [r, c] matrix is
// its column-major transpose, so C = A B becomes C^T = B^T A^T: we call gemm with the
// operands swapped (B first), m and n swapped, and each operand's own transpose flag.
#include <climits>

#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

Status CudaBackend::matmul(float* c, const float* a, const float* b, const float* bias,
                           const MatMulParams& p) {
  using namespace cuda;
  std::string shapes = "batch=" + std::to_string(p.batch) + " m=" + std::to_string(p.m) +
                       " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
                       (p.trans_a ? " transA" : "") + (p.trans_b ? " transB" : "") +
                       (p.a_batched ? "" : " A broadcast") + (p.b_batched ? "" : " B broadcast");
  if (p.batch < 0 || p.m < 0 || p.n < 0 || p.k < 0)
    return invalid_argument("matmul: negative size " + shapes);
  if (p.m > INT_MAX || p.n > INT_MAX || p.k > INT_MAX || p.batch > INT_MAX)
    return invalid_argument("matmul: dimension too large for cuBLAS " + shapes);
  if (p.batch == 0 || p.m == 0 || p.n == 0) return Status::ok();
  if (p.k == 0) {  // empty sum
    CN_CUDA_CHECK(cudaMemsetAsync(c, 0, sizeof(float) * p.batch * p.m * p.n, stream_), shapes);
  } else {
    int m = (int)p.m, n = (int)p.n, k = (int)p.k;
    cublasOperation_t op_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t op_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    int ldb = p.trans_b ? k : n;  // B stored [k, n] or, transposed, [n, k]
    int lda = p.trans_a ? m : k;  // A stored [m, k] or, transposed, [k, m]
    long long stride_b = p.b_batched ? (long long)k * n : 0;
    long long stride_a = p.a_batched ? (long long)m * k : 0;
    // Note [TF32]: FAST_TF32 rounds inputs to TF32 on tensor cores (Ampere and later);
    // COMPUTE_32F keeps strict fp32.
    cublasComputeType_t compute =
        options().allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    const float one = 1.f, zero = 0.f;
    CN_CUBLAS_CHECK(cublas().cublasGemmStridedBatchedEx(
                        cublas_, op_b, op_a, n, m, k, &one, b, CUDA_R_32F, ldb, stride_b, a,
                        CUDA_R_32F, lda, stride_a, &zero, c, CUDA_R_32F, n, (long long)m * n,
                        (int)p.batch, compute, CUBLAS_GEMM_DEFAULT),
                    shapes);
  }
  if ((p.has_bias && bias) || p.relu)
    CN_LAUNCH_CHECK(k::bias_act(stream_, c, p.has_bias ? bias : nullptr, p.batch * p.m, p.n, p.relu),
                    "bias/relu " + shapes);
  return Status::ok();
}

}  // namespace cn
