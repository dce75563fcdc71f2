// CudaBackend softmax family over the last axis (kernels/softmax.cu).
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {
std::string rc(const char* op, int64_t rows, int64_t cols) {
  return std::string(op) + " [" + std::to_string(rows) + "," + std::to_string(cols) + "]";
}
}  // namespace

Status CudaBackend::softmax(float* y, const float* x, int64_t rows, int64_t cols, bool log) {
  if (rows < 0 || cols < 0) return invalid_argument(rc("softmax: negative size", rows, cols));
  CN_LAUNCH_CHECK(cuda::k::softmax(stream_, y, x, rows, cols, log), rc(log ? "log_softmax" : "softmax", rows, cols));
  return Status::ok();
}

Status CudaBackend::softmax_backward(float* dx, const float* dy, const float* y, int64_t rows,
                                     int64_t cols, bool log) {
  if (rows < 0 || cols < 0) return invalid_argument(rc("softmax_backward: negative size", rows, cols));
  CN_LAUNCH_CHECK(cuda::k::softmax_backward(stream_, dx, dy, y, rows, cols, log), rc("softmax_backward", rows, cols));
  return Status::ok();
}

Status CudaBackend::sparse_softmax_cross_entropy(float* loss, float* dlogits, const float* logits,
                                                 const int32_t* labels, int64_t rows,
                                                 int64_t cols) {
  if (rows < 0 || cols <= 0) return invalid_argument(rc("sparse_softmax_cross_entropy: bad size", rows, cols));
  CN_LAUNCH_CHECK(cuda::k::sparse_xent(stream_, loss, dlogits, logits, labels, rows, cols, bad_label_dev_),
                  rc("sparse_softmax_cross_entropy", rows, cols));
  return Status::ok();
}

}  // namespace cn
