// transform.cc: CpuBackend projective_transform (TensorFlow's ImageProjectiveTransformV3 on
// NHWC; the per-pixel arithmetic is ../core/projective.h, shared with the cuda kernel).
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {

Status CpuBackend::projective_transform(float* out, const float* images, const float* transforms,
                                        const ProjectiveParams& p) {
  if (p.n < 0 || p.c < 0 || p.h <= 0 || p.w <= 0 || p.out_h <= 0 || p.out_w <= 0)
    return invalid_argument("projective_transform: bad sizes [" + std::to_string(p.n) + "," +
                            std::to_string(p.h) + "," + std::to_string(p.w) + "," +
                            std::to_string(p.c) + "] -> [" + std::to_string(p.out_h) + "," +
                            std::to_string(p.out_w) + "]");
  const int64_t rows = p.n * p.out_h;  // one output row of one image per unit
  const int64_t row_elems = p.out_w * p.c;
  cpu::parallel_for(rows, std::max<int64_t>(1, cpu::kGrainHeavy / std::max<int64_t>(row_elems, 1)),
                    [&](int64_t lo, int64_t hi) {
                      for (int64_t r = lo; r < hi; ++r) {
                        const int64_t b = r / p.out_h, oy = r % p.out_h;
                        const float* img = images + b * p.h * p.w * p.c;
                        const float* t = transforms + (p.per_image ? b * 8 : 0);
                        float* o = out + r * row_elems;
                        for (int64_t ox = 0; ox < p.out_w; ++ox)
                          for (int64_t ch = 0; ch < p.c; ++ch)
                            o[ox * p.c + ch] = projective_sample(img, t, p, oy, ox, ch);
                      }
                    });
  return Status::ok();
}

}  // namespace cn
