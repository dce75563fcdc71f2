// Batch normalization kernels over the last axis (attr epsilon):
// BatchNormTrain(x, gamma, beta[, residual]) -> y, batchMean, batchVar (biased);
// BatchNormInfer(x, gamma, beta, mean, var[, residual]) -> y;
// BatchNormGrad(dy, x, gamma, batchMean, batchVar[, beta]) -> dx, dgamma, dbeta.
// Attr relu (BatchNormTrain, BatchNormInfer, BatchNormGrad; Note [batch norm + relu] in
// core/params.h): y = relu(batch norm), and the gradient is taken through that relu (beta
// is then input 5). A residual (x's shape; Note [batch norm + add + relu]) is added to the
// normalized x before the relu.
#include <cstdint>

#include "kernel.h"

namespace cn {
namespace {

// Inputs 1..last (all of them by default) but BatchNormGrad's x are per-channel [c]
// parameters; a residual, if any, comes after them.
Status bn_params(KernelContext& c, const char* k, BatchNormParams* p, size_t last = SIZE_MAX) {
  const Shape& x = c.inputs[k[0] == 'G' ? 1 : 0]->shape;
  if (x.empty()) return invalid_argument(std::string("batchNorm: expected x of rank >= 1"));
  p->c = x.back();
  p->rows = p->c ? num_elements(x) / p->c : 0;
  p->epsilon = (float)c.a().f("epsilon", 1e-3);
  p->relu = c.a().b("relu", false);
  for (size_t i = 1; i < c.inputs.size() && i <= last; ++i) {
    if (i == 1 && k[0] == 'G') continue;
    if (c.inputs[i]->shape != Shape{p->c})
      return invalid_argument("batchNorm: expected parameter " + std::to_string(i) + " of shape [" +
                              std::to_string(p->c) + "] but received " + shape_str(c.inputs[i]->shape));
  }
  return Status::ok();
}

// The residual input at index at, if given: float32 of x's shape.
Status residual_of(KernelContext& c, const char* op, size_t at, const float** r) {
  *r = nullptr;
  if (c.inputs.size() <= at) return Status::ok();
  const BufferPtr& z = c.inputs[at];
  if (z->shape != c.inputs[0]->shape || z->dtype != DType::kFloat32)
    return invalid_argument(std::string(op) + ": expected residual (input " + std::to_string(at) +
                            ") of x's shape " + shape_str(c.inputs[0]->shape) + " float32 but received " +
                            shape_str(z->shape) + " " + dtype_name(z->dtype));
  *r = z->f32();
  return Status::ok();
}

Status k_train(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("batchNormTrain", 3, 4));
  BatchNormParams p;
  CN_RETURN_IF_ERROR(bn_params(c, "T", &p, 2));
  const float* residual = nullptr;
  CN_RETURN_IF_ERROR(residual_of(c, "batchNormTrain", 3, &residual));
  BufferPtr y, m, v;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &y));
  CN_RETURN_IF_ERROR(c.output(1, {p.c}, DType::kFloat32, &m));
  CN_RETURN_IF_ERROR(c.output(2, {p.c}, DType::kFloat32, &v));
  return c.backend->batchnorm_forward_training(y->f32(), m->f32(), v->f32(), c.inputs[0]->f32(),
                                               c.inputs[1]->f32(), c.inputs[2]->f32(), residual, p);
}

Status k_infer(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("batchNormInfer", 5, 6));
  BatchNormParams p;
  CN_RETURN_IF_ERROR(bn_params(c, "I", &p, 4));
  const float* residual = nullptr;
  CN_RETURN_IF_ERROR(residual_of(c, "batchNormInfer", 5, &residual));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &y));
  return c.backend->batchnorm_forward_inference(y->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(),
                                                c.inputs[2]->f32(), c.inputs[3]->f32(),
                                                c.inputs[4]->f32(), residual, p);
}

Status k_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("batchNormGrad", 5, 6));
  BatchNormParams p;
  CN_RETURN_IF_ERROR(bn_params(c, "G", &p));
  if (p.relu != (c.inputs.size() == 6))
    return invalid_argument(std::string("batchNormGrad: expected beta as input 5 exactly when relu is set, but received ") +
                            std::to_string(c.inputs.size()) + " inputs with relu " + (p.relu ? "true" : "false"));
  if (c.inputs[0]->shape != c.inputs[1]->shape)
    return invalid_argument("batchNormGrad: dy and x shapes differ");
  BufferPtr dx, dg, db;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[1]->shape, DType::kFloat32, &dx));
  CN_RETURN_IF_ERROR(c.output(1, {p.c}, DType::kFloat32, &dg));
  CN_RETURN_IF_ERROR(c.output(2, {p.c}, DType::kFloat32, &db));
  const float* beta = p.relu ? c.inputs[5]->f32() : nullptr;
  return c.backend->batchnorm_backward(dx->f32(), dg->f32(), db->f32(), c.inputs[0]->f32(),
                                       c.inputs[1]->f32(), c.inputs[2]->f32(), beta,
                                       c.inputs[3]->f32(), c.inputs[4]->f32(), p);
}

}  // namespace

CN_REGISTER_KERNEL("BatchNormTrain", k_train);
CN_REGISTER_KERNEL("BatchNormInfer", k_infer);
CN_REGISTER_KERNEL("BatchNormGrad", k_grad);

}  // namespace cn
