// CudaBackend dropout masks and random tensors (kernels/random.cu, kernels/counter_rng.h).
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

Status CudaBackend::dropout_mask(float* mask, int64_t n, float rate, uint64_t seed) {
  if (n < 0) return invalid_argument("dropout_mask: negative size");
  if (!(rate >= 0.f && rate < 1.f))
    return invalid_argument("dropout: expected rate in [0, 1) but received " + std::to_string(rate));
  CN_LAUNCH_CHECK(cuda::k::dropout_mask(stream_, mask, n, rate, seed), "dropout_mask n=" + std::to_string(n));
  return Status::ok();
}

Status CudaBackend::random(float* out, int64_t n, bool normal, float a, float b, uint64_t seed) {
  if (n < 0) return invalid_argument("random: negative size");
  CN_LAUNCH_CHECK(cuda::k::random(stream_, out, n, normal, a, b, seed),
                  std::string(normal ? "random normal" : "random uniform") + " n=" + std::to_string(n));
  return Status::ok();
}

}  // namespace cn
