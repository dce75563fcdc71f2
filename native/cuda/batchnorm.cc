// CudaBackend batch normalization over the last axis ([rows, c]) on cuDNN: training
// forward (batch statistics), inference forward (given statistics) and backward.
//
// Note [API choice: batch norm]: the legacy cudnnBatchNormalization* calls (deprecated in
// cuDNN 9, still shipped). They take exactly our inputs and outputs with no reserve space to
// carry between forward and backward, which the Backend interface has no slot for. The
// graph API is the route to BN + ReLU (+ add) fusion; it would replace this file only.
// x is described as NHWC [rows, c, 1, 1], the same bytes as our [rows, c].
//
// Note [batch variance]: cuDNN returns the batch mean exactly (as a running mean with
// factor 1 over a zeroed buffer) but its running variance is the unbiased one; the biased
// variance the interface promises is that times (rows - 1) / rows. A single row has mean x,
// variance 0 and output beta, done directly (cuDNN would divide by rows - 1 = 0).
#include <climits>

#include "cuda_backend.h"
#include "descriptors.h"
#include "kernels/kernels.h"

namespace cn {

namespace {

std::string bn_shapes(const BatchNormParams& p) {
  return "x=[" + std::to_string(p.rows) + "," + std::to_string(p.c) +
         "] epsilon=" + std::to_string(p.epsilon);
}

Status bn_descs(const char* op, const BatchNormParams& p, cuda::TensorDesc* x,
                cuda::TensorDesc* stats) {
  if (p.rows < 0 || p.c < 0 || p.epsilon < 0)
    return invalid_argument(std::string(op) + ": invalid parameters " + bn_shapes(p));
  if (p.rows > INT_MAX || p.c > INT_MAX)
    return invalid_argument(std::string(op) + ": too large for cuDNN " + bn_shapes(p));
  CN_RETURN_IF_ERROR(x->set_nhwc((int)p.rows, (int)p.c, 1, 1));
  CN_RETURN_IF_ERROR(stats->derive_bn(*x));
  return Status::ok();
}

const float kOne = 1.f, kZero = 0.f;

}  // namespace

Status CudaBackend::batchnorm_forward_training(float* y, float* batch_mean, float* batch_var,
                                               const float* x, const float* gamma,
                                               const float* beta, const BatchNormParams& p) {
  using namespace cuda;
  if (p.c == 0) return Status::ok();
  std::string shapes = bn_shapes(p);
  size_t cb = sizeof(float) * p.c;
  if (p.rows <= 1) {
    if (p.rows == 0) return invalid_argument("batchnorm_forward_training: no rows " + shapes);
    CN_CUDA_CHECK(cudaMemcpyAsync(batch_mean, x, cb, cudaMemcpyDeviceToDevice, stream_), shapes);
    CN_CUDA_CHECK(cudaMemsetAsync(batch_var, 0, cb, stream_), shapes);
    CN_CUDA_CHECK(cudaMemcpyAsync(y, beta, cb, cudaMemcpyDeviceToDevice, stream_), shapes);
    return Status::ok();
  }
  TensorDesc xd, sd;
  CN_RETURN_IF_ERROR(bn_descs("batchnorm_forward_training", p, &xd, &sd));
  CN_CUDA_CHECK(cudaMemsetAsync(batch_mean, 0, cb, stream_), shapes);
  CN_CUDA_CHECK(cudaMemsetAsync(batch_var, 0, cb, stream_), shapes);
  CN_CUDNN_CHECK(cudnn().cudnnBatchNormalizationForwardTraining(
                     cudnn_, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, xd.get(), x, xd.get(), y,
                     sd.get(), gamma, beta, 1.0, batch_mean, batch_var, (double)p.epsilon,
                     nullptr, nullptr),
                 shapes);
  CN_LAUNCH_CHECK(k::scale(stream_, batch_var, p.c, (float)((double)(p.rows - 1) / (double)p.rows)),
                  shapes);
  return Status::ok();
}

Status CudaBackend::batchnorm_forward_inference(float* y, const float* x, const float* gamma,
                                                const float* beta, const float* mean,
                                                const float* var, const BatchNormParams& p) {
  using namespace cuda;
  if (p.c == 0 || p.rows == 0) return Status::ok();
  std::string shapes = bn_shapes(p);
  TensorDesc xd, sd;
  CN_RETURN_IF_ERROR(bn_descs("batchnorm_forward_inference", p, &xd, &sd));
  CN_CUDNN_CHECK(cudnn().cudnnBatchNormalizationForwardInference(
                     cudnn_, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, xd.get(), x, xd.get(), y,
                     sd.get(), gamma, beta, mean, var, (double)p.epsilon),
                 shapes);
  return Status::ok();
}

Status CudaBackend::batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,
                                       const float* x, const float* gamma,
                                       const float* batch_mean, const float* batch_var,
                                       const BatchNormParams& p) {
  using namespace cuda;
  if (p.c == 0) return Status::ok();
  std::string shapes = bn_shapes(p);
  if (p.rows == 0) return invalid_argument("batchnorm_backward: no rows " + shapes);
  TensorDesc xd, sd;
  CN_RETURN_IF_ERROR(bn_descs("batchnorm_backward", p, &xd, &sd));
  // cuDNN takes the saved statistics as mean and 1 / sqrt(var + epsilon).
  Scratch inv;
  CN_RETURN_IF_ERROR(scratch(&inv, sizeof(float) * p.c));
  CN_LAUNCH_CHECK(k::inv_std(stream_, inv.f32(), batch_var, p.c, p.epsilon), shapes);
  CN_CUDNN_CHECK(cudnn().cudnnBatchNormalizationBackward(
                     cudnn_, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero, xd.get(), x,
                     xd.get(), dy, xd.get(), dx, sd.get(), gamma, dgamma, dbeta,
                     (double)p.epsilon, batch_mean, inv.get()),
                 shapes);
  return Status::ok();
}

}  // namespace cn
