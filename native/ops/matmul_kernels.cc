// MatMul(a, b[, bias]) with attrs transposeA, transposeB, relu. a and b have rank 2 or 3;
// a rank-2 operand is broadcast over the other's batch.
#include "kernel.h"

namespace cn {
namespace {

Status k_matmul(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("matMul", 2, 3));
  const BufferPtr &A = c.inputs[0], &B = c.inputs[1];
  CN_RETURN_IF_ERROR(expect_dtype("matMul", "a", A, DType::kFloat32));
  CN_RETURN_IF_ERROR(expect_dtype("matMul", "b", B, DType::kFloat32));
  const Shape &sa = A->shape, &sb = B->shape;
  if (sa.size() < 2 || sa.size() > 3) return invalid_argument("matMul: expected a of rank 2 or 3 but received shape " + shape_str(sa));
  if (sb.size() < 2 || sb.size() > 3) return invalid_argument("matMul: expected b of rank 2 or 3 but received shape " + shape_str(sb));
  MatMulParams p;
  p.trans_a = c.a().b("transposeA");
  p.trans_b = c.a().b("transposeB");
  p.relu = c.a().b("relu");
  size_t ra = sa.size(), rb = sb.size();
  p.a_batched = ra == 3;
  p.b_batched = rb == 3;
  int64_t ba = p.a_batched ? sa[0] : 1, bb = p.b_batched ? sb[0] : 1;
  if (p.a_batched && p.b_batched && ba != bb)
    return invalid_argument("matMul: batch sizes differ: " + shape_str(sa) + " and " + shape_str(sb));
  p.batch = std::max(ba, bb);
  p.m = p.trans_a ? sa[ra - 1] : sa[ra - 2];
  int64_t ka = p.trans_a ? sa[ra - 2] : sa[ra - 1];
  int64_t kb = p.trans_b ? sb[rb - 1] : sb[rb - 2];
  p.n = p.trans_b ? sb[rb - 2] : sb[rb - 1];
  if (ka != kb)
    return invalid_argument("matMul: inner dimensions differ: a " + shape_str(sa) + (p.trans_a ? " (transposed)" : "") +
                            " and b " + shape_str(sb) + (p.trans_b ? " (transposed)" : ""));
  p.k = ka;
  const float* bias = nullptr;
  if (c.inputs.size() == 3) {
    if (c.inputs[2]->shape != Shape{p.n})
      return invalid_argument("matMul: expected bias of shape [" + std::to_string(p.n) + "] but received " +
                              shape_str(c.inputs[2]->shape));
    bias = c.inputs[2]->f32();
    p.has_bias = true;
  }
  Shape out = (p.a_batched || p.b_batched) ? Shape{p.batch, p.m, p.n} : Shape{p.m, p.n};
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, DType::kFloat32, &y));
  return c.backend->matmul(y->f32(), A->f32(), B->f32(), bias, p);
}

}  // namespace

CN_REGISTER_KERNEL("MatMul", k_matmul);

}  // namespace cn
