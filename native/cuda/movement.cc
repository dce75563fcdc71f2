// CudaBackend data movement: transpose, slab copies (concat / split), slice and pad
// (kernels/movement.cu), planned by movement_plan.h. Elements are 4 bytes for every dtype these see.
#include "cuda_backend.h"
#include "kernels/kernels.h"
#include "movement_plan.h"

namespace cn {

Status CudaBackend::transpose(void* out, const void* in, const TransposeParams& p) {
  cuda::k::IndexMap m;
  CN_RETURN_IF_ERROR(cuda::plan_transpose(p, &m));
  if (p.size == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::gather_strided(stream_, out, in, p.size, m, 0),
                  "transpose in=" + shape_str(Shape(p.in_shape, p.in_shape + p.rank)));
  return Status::ok();
}

Status CudaBackend::copy_slab(void* out, const void* in, int64_t outer, int64_t in_axis,
                              int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  CN_RETURN_IF_ERROR(cuda::check_slab(outer, in_axis, out_axis, offset, inner, into_out));
  CN_LAUNCH_CHECK(cuda::k::copy_slab(stream_, out, in, outer, in_axis, out_axis, offset, inner, into_out),
                  "copy_slab outer=" + std::to_string(outer) + " in_axis=" + std::to_string(in_axis) +
                      " out_axis=" + std::to_string(out_axis) + " inner=" + std::to_string(inner));
  return Status::ok();
}

Status CudaBackend::slice(void* out, const void* in, const Shape& in_shape, const Shape& begin,
                          const Shape& size) {
  cuda::k::IndexMap m;
  int64_t offset;
  CN_RETURN_IF_ERROR(cuda::plan_slice(in_shape, begin, size, &m, &offset));
  int64_t n = num_elements(size);
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::gather_strided(stream_, out, in, n, m, offset),
                  "slice in=" + shape_str(in_shape) + " begin=" + shape_str(begin) + " size=" + shape_str(size));
  return Status::ok();
}

Status CudaBackend::pad(float* out, const float* in, const Shape& in_shape, const Shape& before,
                        const Shape& after, float value) {
  cuda::k::PadDesc d;
  int64_t n;
  CN_RETURN_IF_ERROR(cuda::plan_pad(in_shape, before, after, &d, &n));
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::pad(stream_, out, in, n, d, value),
                  "pad in=" + shape_str(in_shape) + " before=" + shape_str(before) + " after=" + shape_str(after));
  return Status::ok();
}

}  // namespace cn
