// CudaBackend local response normalization across channels (TensorFlow's LRN / LRNGrad) on
// our own kernels (kernels/lrn.cu).
//
// Note [API choice: LRN]: cuDNN's cudnnLRNCrossChannelForward/Backward are legacy API, work
// on NCHW only (our tensors are NHWC, so each call would need two transposes), divide alpha
// by the window size, and cap the window at CUDNN_LRN_MAX_N (16, i.e. depthRadius <= 7,
// while tf.localResponseNormalization defaults to 5 and allows any radius). The operation is
// memory-bound and tiny next to the convolutions around it, so direct kernels (one thread per
// element summing its channel window; backward in two passes per TensorFlow's LRNGrad)
// match TensorFlow exactly for every radius at no real cost.
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {

std::string lrn_ctx(const LRNParams& p) {
  return "x=[" + std::to_string(p.rows) + "," + std::to_string(p.c) +
         "] depth_radius=" + std::to_string(p.depth_radius) + " bias=" + std::to_string(p.bias) +
         " alpha=" + std::to_string(p.alpha) + " beta=" + std::to_string(p.beta);
}

Status make_desc(const char* op, const LRNParams& p, cuda::k::LRNDesc* d) {
  if (p.rows < 0 || p.c < 0 || p.depth_radius < 0 || !(p.bias > 0.0f) || !(p.alpha >= 0.0f))
    return invalid_argument(std::string(op) + ": inconsistent parameters " + lrn_ctx(p));
  *d = {p.rows, p.c, p.depth_radius, p.bias, p.alpha, p.beta};
  return Status::ok();
}

}  // namespace

Status CudaBackend::lrn_forward(float* y, const float* x, const LRNParams& p) {
  cuda::k::LRNDesc d;
  CN_RETURN_IF_ERROR(make_desc("lrn_forward", p, &d));
  CN_LAUNCH_CHECK(cuda::k::lrn_forward(stream_, y, x, d), "lrn_forward " + lrn_ctx(p));
  return Status::ok();
}

Status CudaBackend::lrn_backward(float* dx, const float* dy, const float* x, const float* y,
                                 const LRNParams& p) {
  cuda::k::LRNDesc d;
  CN_RETURN_IF_ERROR(make_desc("lrn_backward", p, &d));
  if (p.rows == 0 || p.c == 0) return Status::ok();
  cuda::Scratch r;
  CN_RETURN_IF_ERROR(scratch(&r, sizeof(float) * p.rows * p.c));
  CN_LAUNCH_CHECK(cuda::k::lrn_backward(stream_, dx, r.f32(), dy, x, y, d),
                  "lrn_backward " + lrn_ctx(p));
  return Status::ok();
}

}  // namespace cn
