// Local response normalization kernels: LRN(x) and LRNGrad(dy, x, y) over the last axis
// (attrs depthRadius, bias, alpha, beta), TensorFlow's LRN / LRNGrad semantics.
#include <cmath>

#include "kernel.h"

namespace cn {
namespace {

Status lrn_params(KernelContext& c, const char* op, const Shape& x, LRNParams* p) {
  if (x.empty()) return invalid_argument(std::string(op) + ": expected x of rank >= 1 but received a scalar");
  p->c = x.back();
  p->rows = 1;
  for (size_t i = 0; i + 1 < x.size(); i++) p->rows *= x[i];
  double r = c.a().f("depthRadius", 5);
  p->bias = (float)c.a().f("bias", 1);
  p->alpha = (float)c.a().f("alpha", 1);
  p->beta = (float)c.a().f("beta", 0.5);
  if (!(r >= 0) || r != std::floor(r) || r > (1 << 20))
    return invalid_argument(std::string(op) + ": expected depthRadius a non-negative integer but received " + std::to_string(r));
  p->depth_radius = (int64_t)r;
  if (!(p->bias > 0.0f) || !(p->alpha >= 0.0f) || !std::isfinite(p->beta))
    return invalid_argument(std::string(op) + ": expected bias > 0, alpha >= 0 and a finite beta but received bias " +
                            std::to_string(p->bias) + ", alpha " + std::to_string(p->alpha) + ", beta " + std::to_string(p->beta));
  return Status::ok();
}

Status k_lrn(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("LRN", 1, 1));
  CN_RETURN_IF_ERROR(expect_dtype("LRN", "x", c.inputs[0], DType::kFloat32));
  LRNParams p;
  CN_RETURN_IF_ERROR(lrn_params(c, "LRN", c.inputs[0]->shape, &p));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &y));
  return c.backend->lrn_forward(y->f32(), c.inputs[0]->f32(), p);
}

// inputs: dy, x, y (the forward output)
Status k_lrn_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("LRNGrad", 3, 3));
  for (size_t i = 0; i < 3; i++) {
    CN_RETURN_IF_ERROR(expect_dtype("LRNGrad", i == 0 ? "dy" : i == 1 ? "x" : "y", c.inputs[i], DType::kFloat32));
    if (c.inputs[i]->shape != c.inputs[1]->shape)
      return invalid_argument("LRNGrad: expected dy, x and y of one shape but received " +
                              shape_str(c.inputs[0]->shape) + ", " + shape_str(c.inputs[1]->shape) +
                              ", " + shape_str(c.inputs[2]->shape));
  }
  LRNParams p;
  CN_RETURN_IF_ERROR(lrn_params(c, "LRNGrad", c.inputs[1]->shape, &p));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[1]->shape, DType::kFloat32, &dx));
  return c.backend->lrn_backward(dx->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(),
                                 c.inputs[2]->f32(), p);
}

}  // namespace

CN_REGISTER_KERNEL("LRN", k_lrn);
CN_REGISTER_KERNEL("LRNGrad", k_lrn_grad);

}  // namespace cn
