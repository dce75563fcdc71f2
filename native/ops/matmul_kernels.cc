// MatMul(a, b[, bias]) with attrs transposeA, transposeB, relu. a and b have rank 2 or 3;
// a rank-2 operand is broadcast over the other's batch.
#include "kernel.h"

namespace cn {
namespace {

Status k_matmul(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("MatMul", 2, 3));
  const BufferPtr &A = c.inputs[0], &B = c.inputs[1];
  CN_RETURN_IF_ERROR(expect_dtype("MatMul", "a", A, DType::kFloat32));
  CN_RETURN_IF_ERROR(expect_dtype("MatMul", "b", B, DType::kFloat32));
  MatMulParams p;
  CN_RETURN_IF_ERROR(make_matmul_params(&p, A->shape, B->shape, c.a().b("transposeA"), c.a().b("transposeB")));
  p.relu = c.a().b("relu");
  const float* bias = nullptr;
  if (c.inputs.size() == 3) {
    if (c.inputs[2]->shape != Shape{p.n})
      return invalid_argument("MatMul: expected bias of shape [" + std::to_string(p.n) + "] but received " +
                              shape_str(c.inputs[2]->shape));
    bias = c.inputs[2]->f32();
    p.has_bias = true;
  }
  Shape out = matmul_output_shape(p);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, DType::kFloat32, &y));
  return c.backend->matmul(y->f32(), A->f32(), B->f32(), bias, p);
}

}  // namespace

CN_REGISTER_KERNEL("MatMul", k_matmul);

}  // namespace cn
