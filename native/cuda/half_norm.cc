// CudaReducedPrecision batch norm (half_backend.h): training forward, inference forward and
// backward over the last axis of bfloat16 / float16 x, with float32 statistics, gamma, beta
// and parameter gradients (Note [batch norm in reduced precision] in
// kernels/batchnorm_body.h), and the fused forms the plan fusion pass makes (a relu, a
// residual of x's dtype added before it; Note [batch norm + add + relu] in core/params.h),
// on the float32 path's kernels instantiated for the storage type.
#include "cuda_backend.h"
#include "half_backend.h"
#include "kernels/reduced_kernels.h"

namespace cn {

namespace {

using cuda::expect_typed;

std::string bn_ctx(const char* op, const BatchNormParams& p, DType t) {
  return std::string(op) + " x=[" + std::to_string(p.rows) + "," + std::to_string(p.c) + "] " + dtype_name(t) +
         (p.relu ? " relu" : "");
}

// x's reduced dtype, y (or dx) and the residual (may be absent) of it, valid parameters.
Status bn_check(const char* op, const TypedPtr& x, const TypedPtr& y, const TypedPtr& residual,
                const BatchNormParams& p, DType* t) {
  CN_RETURN_IF_ERROR(expect_typed(op, "x", x, {DType::kBFloat16, DType::kFloat16}));
  *t = x.dtype;
  if (y) CN_RETURN_IF_ERROR(expect_typed(op, "y", y, {*t}));
  if (residual) CN_RETURN_IF_ERROR(expect_typed(op, "residual", residual, {*t}));
  if (p.rows < 0 || p.c < 0 || !(p.epsilon >= 0)) return invalid_argument(std::string(op) + ": invalid parameters");
  return Status::ok();
}

// y = normalize(x) with the given statistics (+ residual, relu as p says).
Status normalize(CudaBackend* b, const char* op, TypedPtr y, TypedPtr x, TypedPtr residual, const float* gamma,
                 const float* beta, const float* mean, const float* var, const BatchNormParams& p, DType t) {
  cuda::Scratch scale;
  CN_RETURN_IF_ERROR(b->scratch(&scale, sizeof(float) * p.c));
  CN_LAUNCH_CHECK(cuda::k::rp_bn_normalize(b->stream(), y.data, x.data, residual.data, (int)t, mean, var, gamma, beta,
                                           p.relu, scale.f32(), p.rows, p.c, p.epsilon),
                  bn_ctx(op, p, t));
  return Status::ok();
}

Status training(CudaBackend* b, const char* op, TypedPtr y, float* mean, float* var, TypedPtr x, TypedPtr residual,
                const float* gamma, const float* beta, const BatchNormParams& p) {
  DType t;
  CN_RETURN_IF_ERROR(bn_check(op, x, y, residual, p, &t));
  if (p.c == 0) return Status::ok();
  if (p.rows == 0) return invalid_argument(std::string(op) + ": no rows");
  cuda::Scratch partials;
  CN_RETURN_IF_ERROR(b->scratch(&partials, sizeof(double) * cuda::k::bn_partials_size(p.rows, p.c)));
  CN_LAUNCH_CHECK(cuda::k::rp_bn_moments(b->stream(), mean, var, static_cast<double*>(partials.get()), x.data, (int)t,
                                         p.rows, p.c),
                  bn_ctx(op, p, t));
  return normalize(b, op, y, x, residual, gamma, beta, mean, var, p, t);
}

Status inference(CudaBackend* b, const char* op, TypedPtr y, TypedPtr x, TypedPtr residual, const float* gamma,
                 const float* beta, const float* mean, const float* var, const BatchNormParams& p) {
  DType t;
  CN_RETURN_IF_ERROR(bn_check(op, x, y, residual, p, &t));
  if (p.c == 0 || p.rows == 0) return Status::ok();
  return normalize(b, op, y, x, residual, gamma, beta, mean, var, p, t);
}

// With p.relu, dy is masked by relu((x - mean) * scale + beta), the forward's expression.
Status backward(CudaBackend* b, const char* op, TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                const float* gamma, const float* beta, const float* mean, const float* var,
                const BatchNormParams& p) {
  DType t;
  CN_RETURN_IF_ERROR(bn_check(op, x, TypedPtr(), TypedPtr(), p, &t));
  CN_RETURN_IF_ERROR(expect_typed(op, "dy", dy, {t}));
  if (dx) CN_RETURN_IF_ERROR(expect_typed(op, "dx", dx, {t}));
  if (p.c == 0) return Status::ok();
  if (p.rows == 0) return invalid_argument(std::string(op) + ": no rows");
  cuda::Scratch partials, sums;
  CN_RETURN_IF_ERROR(b->scratch(&partials, sizeof(double) * cuda::k::bn_partials_size(p.rows, p.c)));
  // s_dy, s_dyd, dx's 3 coefficients, and the relu mask's scale
  CN_RETURN_IF_ERROR(b->scratch(&sums, sizeof(float) * 6 * p.c));
  float* s_dy = sums.f32();
  float* s_dyd = s_dy + p.c;
  float* relu_scale = p.relu ? s_dy + 5 * p.c : nullptr;
  const float* relu_beta = p.relu ? beta : nullptr;
  if (p.relu)
    CN_LAUNCH_CHECK(cuda::k::bn_scale(b->stream(), relu_scale, var, gamma, p.c, p.epsilon), bn_ctx(op, p, t));
  CN_LAUNCH_CHECK(cuda::k::rp_bn_grad_sums(b->stream(), s_dy, s_dyd, static_cast<double*>(partials.get()), x.data,
                                           dy.data, (int)t, mean, relu_scale, relu_beta, p.rows, p.c),
                  bn_ctx(op, p, t));
  CN_LAUNCH_CHECK(cuda::k::rp_bn_backward(b->stream(), dx.data, dgamma, dbeta, dy.data, x.data, (int)t, mean, var,
                                          gamma, s_dy, s_dyd, relu_scale, relu_beta, s_dy + 2 * p.c, p.rows, p.c,
                                          p.epsilon),
                  bn_ctx(op, p, t));
  return Status::ok();
}

BatchNormParams plain(BatchNormParams p) {
  p.relu = false;
  return p;
}

}  // namespace

Status CudaReducedPrecision::batchnorm_forward_training(TypedPtr y, float* mean, float* var, TypedPtr x,
                                                        const float* gamma, const float* beta,
                                                        const BatchNormParams& p) {
  if (p.relu) return not_supported("batchnorm_forward_training: the relu form is batchnorm_forward_training_fused");
  return training(b_, "batchnorm_forward_training", y, mean, var, x, TypedPtr(), gamma, beta, p);
}

Status CudaReducedPrecision::batchnorm_forward_training_fused(TypedPtr y, float* mean, float* var, TypedPtr x,
                                                              const float* gamma, const float* beta,
                                                              TypedPtr residual, const BatchNormParams& p) {
  return training(b_, "batchnorm_forward_training (fused)", y, mean, var, x, residual, gamma, beta, p);
}

Status CudaReducedPrecision::batchnorm_forward_inference(TypedPtr y, TypedPtr x, const float* gamma,
                                                         const float* beta, const float* mean, const float* var,
                                                         const BatchNormParams& p) {
  if (p.relu) return not_supported("batchnorm_forward_inference: the relu form is batchnorm_forward_inference_fused");
  return inference(b_, "batchnorm_forward_inference", y, x, TypedPtr(), gamma, beta, mean, var, p);
}

Status CudaReducedPrecision::batchnorm_forward_inference_fused(TypedPtr y, TypedPtr x, const float* gamma,
                                                               const float* beta, const float* mean,
                                                               const float* var, TypedPtr residual,
                                                               const BatchNormParams& p) {
  return inference(b_, "batchnorm_forward_inference (fused)", y, x, residual, gamma, beta, mean, var, p);
}

Status CudaReducedPrecision::batchnorm_backward(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                                                const float* gamma, const float* mean, const float* var,
                                                const BatchNormParams& p) {
  return backward(b_, "batchnorm_backward", dx, dgamma, dbeta, dy, x, gamma, nullptr, mean, var, plain(p));
}

Status CudaReducedPrecision::batchnorm_backward_relu(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy,
                                                     TypedPtr x, const float* gamma, const float* beta,
                                                     const float* mean, const float* var,
                                                     const BatchNormParams& p) {
  BatchNormParams q = p;
  q.relu = true;
  return backward(b_, "batchnorm_backward (fused relu)", dx, dgamma, dbeta, dy, x, gamma, beta, mean, var, q);
}

}  // namespace cn
