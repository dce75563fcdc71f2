// CudaBackend projective_transform (kernels/transform.cu): TensorFlow's
// ImageProjectiveTransformV3, the gather behind Keras' RandomRotation. Our own kernel: cuDNN
// has only affine grid sampling with its own coordinate conventions and no fill modes.
#include <string>

#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

Status CudaBackend::projective_transform(float* out, const float* images, const float* transforms,
                                         const ProjectiveParams& p) {
  std::string ctx = "projective_transform [" + std::to_string(p.n) + "," + std::to_string(p.h) +
                    "," + std::to_string(p.w) + "," + std::to_string(p.c) + "] -> [" +
                    std::to_string(p.out_h) + "," + std::to_string(p.out_w) + "]";
  if (p.n < 0 || p.c < 0 || p.h <= 0 || p.w <= 0 || p.out_h <= 0 || p.out_w <= 0)
    return invalid_argument(ctx + ": bad sizes");
  CN_LAUNCH_CHECK(cuda::k::projective_transform(stream_, out, images, transforms, p), ctx);
  return Status::ok();
}

}  // namespace cn
