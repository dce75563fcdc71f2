// CudaBackend optimizer updates, in place (kernels/optimizer.cu; Keras 3 semantics).
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

Status CudaBackend::sgd_update(float* w, float* velocity, const float* g, int64_t n,
                               const OptimizerParams& p) {
  if (n < 0) return invalid_argument("sgd_update: negative size");
  // Keras keeps no velocity slot without momentum; a given one is used only with momentum.
  float* vel = p.momentum != 0.f ? velocity : nullptr;
  if (p.momentum != 0.f && !velocity) return invalid_argument("sgd_update: momentum needs a velocity slot");
  CN_LAUNCH_CHECK(cuda::k::sgd_update(stream_, w, vel, g, n, p.lr, p.momentum, p.nesterov),
                  "sgd_update n=" + std::to_string(n));
  return Status::ok();
}

Status CudaBackend::moving_average(float* v, const float* x, int64_t n, float momentum,
                                   float rest) {
  if (n < 0) return invalid_argument("moving_average: negative size");
  CN_LAUNCH_CHECK(cuda::k::moving_average(stream_, v, x, n, momentum, rest),
                  "moving_average n=" + std::to_string(n));
  return Status::ok();
}

Status CudaBackend::adam_update(float* w, float* m, float* v, const float* g, int64_t n,
                                const OptimizerParams& p, const float* step, bool nadam) {
  if (n < 0) return invalid_argument("adam_update: negative size");
  if (!step) return invalid_argument("adam_update: missing step");
  cuda::Scratch coef;
  CN_RETURN_IF_ERROR(scratch(&coef, 8 * sizeof(float)));
  CN_LAUNCH_CHECK(cuda::k::adam_update(stream_, w, m, v, g, n, p.lr, p.beta1, p.beta2, p.epsilon,
                                       step, nadam, coef.f32()),
                  std::string(nadam ? "nadam_update" : "adam_update") + " n=" + std::to_string(n));
  return Status::ok();
}

Status CudaBackend::rmsprop_update(float* w, float* ms, float* mom, float* mg, const float* g,
                                   int64_t n, const OptimizerParams& p) {
  if (n < 0) return invalid_argument("rmsprop_update: negative size");
  float* momentum = p.momentum > 0.f ? mom : nullptr;
  float* mean_grad = p.centered ? mg : nullptr;
  if (p.momentum > 0.f && !mom) return invalid_argument("rmsprop_update: momentum needs a momentum slot");
  if (p.centered && !mg) return invalid_argument("rmsprop_update: centered needs a mean-gradient slot");
  CN_LAUNCH_CHECK(cuda::k::rmsprop_update(stream_, w, ms, momentum, mean_grad, g, n, p.lr, p.rho,
                                          p.momentum, p.epsilon),
                  "rmsprop_update n=" + std::to_string(n));
  return Status::ok();
}

}  // namespace cn
