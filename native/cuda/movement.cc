// CudaBackend data movement: transpose, slab copies (concat / split), slice and pad
// (kernels/movement.cu). Elements are 4 bytes for every dtype these see.
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {

// Row-major strides of a shape.
void strides_of(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int i = (int)s.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
}

}  // namespace

Status CudaBackend::transpose(void* out, const void* in, const TransposeParams& p) {
  if (p.rank < 0 || p.rank > kMaxRank) return invalid_argument("transpose: bad rank");
  if (p.size == 0) return Status::ok();
  Shape in_shape(p.in_shape, p.in_shape + p.rank);
  int64_t st[kMaxRank];
  strides_of(in_shape, st);
  cuda::k::IndexMap m;
  m.rank = p.rank;
  for (int i = 0; i < p.rank; ++i) {
    if (p.perm[i] < 0 || p.perm[i] >= p.rank) return invalid_argument("transpose: bad perm");
    m.shape[i] = p.in_shape[p.perm[i]];
    m.a_strides[i] = st[p.perm[i]];
  }
  CN_LAUNCH_CHECK(cuda::k::gather_strided(stream_, out, in, p.size, m, 0),
                  "transpose in=" + shape_str(in_shape));
  return Status::ok();
}

Status CudaBackend::copy_slab(void* out, const void* in, int64_t outer, int64_t in_axis,
                              int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  int64_t span = into_out ? in_axis : out_axis, whole = into_out ? out_axis : in_axis;
  if (outer < 0 || inner < 0 || span < 0 || offset < 0 || offset + span > whole)
    return invalid_argument("copy_slab: slab [" + std::to_string(offset) + ", " +
                            std::to_string(offset + span) + ") outside an axis of " +
                            std::to_string(whole));
  CN_LAUNCH_CHECK(cuda::k::copy_slab(stream_, out, in, outer, in_axis, out_axis, offset, inner, into_out),
                  "copy_slab outer=" + std::to_string(outer) + " in_axis=" + std::to_string(in_axis) +
                      " out_axis=" + std::to_string(out_axis) + " inner=" + std::to_string(inner));
  return Status::ok();
}

Status CudaBackend::slice(void* out, const void* in, const Shape& in_shape, const Shape& begin,
                          const Shape& size) {
  int rank = (int)in_shape.size();
  if (rank > kMaxRank || begin.size() != in_shape.size() || size.size() != in_shape.size())
    return invalid_argument("slice: expected begin and size of rank " + std::to_string(rank));
  int64_t st[kMaxRank], offset = 0;
  strides_of(in_shape, st);
  cuda::k::IndexMap m;
  m.rank = rank;
  for (int i = 0; i < rank; ++i) {
    if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > in_shape[i])
      return invalid_argument("slice: begin " + shape_str(begin) + " size " + shape_str(size) +
                              " out of bounds for " + shape_str(in_shape));
    m.shape[i] = size[i];
    m.a_strides[i] = st[i];
    offset += begin[i] * st[i];
  }
  int64_t n = num_elements(size);
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::gather_strided(stream_, out, in, n, m, offset),
                  "slice in=" + shape_str(in_shape) + " begin=" + shape_str(begin) + " size=" + shape_str(size));
  return Status::ok();
}

Status CudaBackend::pad(float* out, const float* in, const Shape& in_shape, const Shape& before,
                        const Shape& after, float value) {
  int rank = (int)in_shape.size();
  if (rank > kMaxRank || before.size() != in_shape.size() || after.size() != in_shape.size())
    return invalid_argument("pad: expected paddings of rank " + std::to_string(rank));
  cuda::k::PadDesc d;
  d.rank = rank;
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (before[i] < 0 || after[i] < 0) return invalid_argument("pad: paddings must be >= 0");
    d.in_shape[i] = in_shape[i];
    d.before[i] = before[i];
    d.out_shape[i] = in_shape[i] + before[i] + after[i];
    n *= d.out_shape[i];
  }
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::pad(stream_, out, in, n, d, value),
                  "pad in=" + shape_str(in_shape) + " before=" + shape_str(before) + " after=" + shape_str(after));
  return Status::ok();
}

}  // namespace cn
