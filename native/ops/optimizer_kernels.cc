// Optimizer update kernels, in place on the weight and its slots (no outputs):
// SGDUpdate(w, g[, velocity]), AdamUpdate(w, g, m, v, step) (attr nadam),
// RMSPropUpdate(w, g, ms[, mom[, mg]]), MovingAverageUpdate(v, x) (attr momentum).
// Hyper-parameters are attributes.
#include "kernel.h"

namespace cn {
namespace {

OptimizerParams opt_params(const Attrs& a) {
  OptimizerParams p;
  p.lr = (float)a.f("learningRate", 0.01);
  p.momentum = (float)a.f("momentum", 0);
  p.beta1 = (float)a.f("beta1", 0.9);
  p.beta2 = (float)a.f("beta2", 0.999);
  p.rho = (float)a.f("rho", 0.9);
  p.epsilon = (float)a.f("epsilon", 1e-7);
  p.nesterov = a.b("nesterov");
  p.centered = a.b("centered");
  return p;
}

Status same_shapes(const KernelContext& c, const char* k) {
  for (size_t i = 1; i < c.inputs.size(); ++i) {
    if (std::string(k) == "adam" && i == 4) continue;  // step scalar
    if (c.inputs[i]->shape != c.inputs[0]->shape)
      return invalid_argument(std::string(k) + ": expected input " + std::to_string(i) + " of shape " +
                              shape_str(c.inputs[0]->shape) + " but received " + shape_str(c.inputs[i]->shape));
  }
  return Status::ok();
}

Status k_sgd(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("sgd", 2, 3));
  CN_RETURN_IF_ERROR(same_shapes(c, "sgd"));
  return c.backend->sgd_update(c.inputs[0]->f32(), c.inputs.size() > 2 ? c.inputs[2]->f32() : nullptr,
                               c.inputs[1]->f32(), c.inputs[0]->size(), opt_params(c.a()));
}

Status k_adam(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("adam", 5, 5));
  CN_RETURN_IF_ERROR(same_shapes(c, "adam"));
  return c.backend->adam_update(c.inputs[0]->f32(), c.inputs[2]->f32(), c.inputs[3]->f32(), c.inputs[1]->f32(),
                                c.inputs[0]->size(), opt_params(c.a()), c.inputs[4]->f32(), c.a().b("nadam"));
}

Status k_rmsprop(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("rmsprop", 3, 5));
  CN_RETURN_IF_ERROR(same_shapes(c, "rmsprop"));
  OptimizerParams p = opt_params(c.a());
  float* mom = c.inputs.size() > 3 && p.momentum > 0 ? c.inputs[3]->f32() : nullptr;
  float* mg = c.inputs.size() > 4 ? c.inputs[4]->f32() : nullptr;
  return c.backend->rmsprop_update(c.inputs[0]->f32(), c.inputs[2]->f32(), mom, mg, c.inputs[1]->f32(),
                                   c.inputs[0]->size(), p);
}

// MovingAverageUpdate(v, x) attr momentum: v = v * momentum + x * (1 - momentum) in place
// (batch norm's moving statistics; one kernel for the mul, mul, add and assign it replaces).
Status k_moving_average(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("movingAverageUpdate", 2, 2));
  const BufferPtr &v = c.inputs[0], &x = c.inputs[1];
  if (v->dtype != DType::kFloat32 || x->dtype != DType::kFloat32)
    return invalid_argument("movingAverageUpdate: expected float32 variable and value but received " +
                            std::string(dtype_name(v->dtype)) + " and " + dtype_name(x->dtype));
  if (x->shape != v->shape)
    return invalid_argument("movingAverageUpdate: expected value of shape " + shape_str(v->shape) +
                            " but received " + shape_str(x->shape));
  const double m = c.a().f("momentum", 0.99);
  if (!(m >= 0 && m <= 1))
    return invalid_argument("movingAverageUpdate: expected momentum in [0, 1] but received " + std::to_string(m));
  return c.backend->moving_average(v->f32(), x->f32(), v->size(), (float)m, (float)(1.0 - m));
}

}  // namespace

CN_REGISTER_KERNEL("MovingAverageUpdate", k_moving_average);
CN_REGISTER_KERNEL("SGDUpdate", k_sgd);
CN_REGISTER_KERNEL("AdamUpdate", k_adam);
CN_REGISTER_KERNEL("RMSPropUpdate", k_rmsprop);

}  // namespace cn
