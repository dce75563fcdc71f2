// ImageProjectiveTransformV3 over NHWC: one thread per output element; the arithmetic is
// ../../core/projective.h, shared with the cpu backend.
#include "../../core/projective.h"
#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

__global__ void projective_kernel(float* out, const float* images, const float* transforms,
                                  ProjectiveParams p) {
  const int64_t n = p.n * p.out_h * p.out_w * p.c;
  CN_FOR_EACH(i, n) {
    const int64_t ch = i % p.c;
    int64_t r = i / p.c;
    const int64_t ox = r % p.out_w;
    r /= p.out_w;
    const int64_t oy = r % p.out_h, b = r / p.out_h;
    out[i] = projective_sample(images + b * p.h * p.w * p.c, transforms + (p.per_image ? b * 8 : 0),
                               p, oy, ox, ch);
  }
}

}  // namespace

cudaError_t projective_transform(cudaStream_t s, float* out, const float* images,
                                 const float* transforms, const ProjectiveParams& p) {
  const int64_t n = p.n * p.out_h * p.out_w * p.c;
  if (n == 0) return cudaSuccess;
  projective_kernel<<<grid_for(n), kThreads, 0, s>>>(out, images, transforms, p);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
