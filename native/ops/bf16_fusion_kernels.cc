// The bfloat16 variants of the plan fusion pass's residual join (lib/plan_fusion.ts):
// AddRelu(a, b) -> relu(a + b) and AddReluGrad(g1, g2, ref) -> (g1 + g2) where ref > 0, all of
// one reduced dtype and one shape (Note [bf16 add + relu] in native/cpu/bf16_backend.cc).
// Batch norm's fused forms are BatchNormTrain / Infer / Grad's own (bf16_kernels.cc).
#include "../core/reduced_precision.h"
#include "typed_kernels.h"

namespace cn {
namespace {

TypedPtr tp(const BufferPtr& b) { return TypedPtr(b->raw(), b->dtype); }

Status same_typed_shapes(KernelContext& c, const char* k) {
  const BufferPtr& x = c.inputs[0];
  for (size_t i = 1; i < c.inputs.size(); ++i)
    if (c.inputs[i]->shape != x->shape || c.inputs[i]->dtype != x->dtype)
      return invalid_argument(std::string(k) + ": expected input " + std::to_string(i) + " of shape " + shape_str(x->shape) +
                              " and dtype " + dtype_name(x->dtype) + " (like input 0) but received " +
                              shape_str(c.inputs[i]->shape) + " " + dtype_name(c.inputs[i]->dtype));
  return Status::ok();
}

Status k_add_relu(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("AddRelu", 2, 2));
  CN_RETURN_IF_ERROR(same_typed_shapes(c, "AddRelu"));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &y));
  return c.backend->reduced_precision()->add_relu(tp(y), tp(c.inputs[0]), tp(c.inputs[1]), c.inputs[0]->size());
}

Status k_add_relu_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("AddReluGrad", 3, 3));
  CN_RETURN_IF_ERROR(same_typed_shapes(c, "AddReluGrad"));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &dx));
  return c.backend->reduced_precision()->add_relu_grad(tp(dx), tp(c.inputs[0]), tp(c.inputs[1]), tp(c.inputs[2]),
                                                       c.inputs[0]->size());
}

const auto kReduced = {DType::kBFloat16, DType::kFloat16};

}  // namespace

CN_REGISTER_TYPED_KERNEL("AddRelu", kReduced, false, k_add_relu);
CN_REGISTER_TYPED_KERNEL("AddReluGrad", kReduced, false, k_add_relu_grad);

}  // namespace cn
