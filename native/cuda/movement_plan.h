// The host-side planning of the cuda movement kernels (transpose, slab copies, slice, pad):
// argument checks and the index maps the kernels walk, shared by the 4-byte methods
// (movement.cc) and the 2-byte ones (half_movement.cc), which differ only in the launch.
#pragma once
#include <string>

#include "../core/params.h"
#include "../core/shape.h"
#include "../core/status.h"
#include "kernels/kernels.h"

namespace cn {
namespace cuda {

// Row-major strides of a shape.
inline void strides_of(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int i = (int)s.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
}

// The gather map of a transpose (p.rank within kMaxRank, a valid perm).
inline Status plan_transpose(const TransposeParams& p, k::IndexMap* m) {
  if (p.rank < 0 || p.rank > kMaxRank) return invalid_argument("transpose: bad rank");
  int64_t st[kMaxRank];
  strides_of(Shape(p.in_shape, p.in_shape + p.rank), st);
  m->rank = p.rank;
  for (int i = 0; i < p.rank; ++i) {
    if (p.perm[i] < 0 || p.perm[i] >= p.rank) return invalid_argument("transpose: bad perm");
    m->shape[i] = p.in_shape[p.perm[i]];
    m->a_strides[i] = st[p.perm[i]];
  }
  return Status::ok();
}

// A slab [offset, offset + span) inside its axis.
inline Status check_slab(int64_t outer, int64_t in_axis, int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  int64_t span = into_out ? in_axis : out_axis, whole = into_out ? out_axis : in_axis;
  if (outer < 0 || inner < 0 || span < 0 || offset < 0 || offset + span > whole)
    return invalid_argument("copy_slab: slab [" + std::to_string(offset) + ", " + std::to_string(offset + span) +
                            ") outside an axis of " + std::to_string(whole));
  return Status::ok();
}

// The gather map and start offset of a slice.
inline Status plan_slice(const Shape& in_shape, const Shape& begin, const Shape& size, k::IndexMap* m, int64_t* offset) {
  int rank = (int)in_shape.size();
  if (rank > kMaxRank || begin.size() != in_shape.size() || size.size() != in_shape.size())
    return invalid_argument("slice: expected begin and size of rank " + std::to_string(rank));
  int64_t st[kMaxRank];
  strides_of(in_shape, st);
  m->rank = rank;
  *offset = 0;
  for (int i = 0; i < rank; ++i) {
    if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > in_shape[i])
      return invalid_argument("slice: begin " + shape_str(begin) + " size " + shape_str(size) + " out of bounds for " +
                              shape_str(in_shape));
    m->shape[i] = size[i];
    m->a_strides[i] = st[i];
    *offset += begin[i] * st[i];
  }
  return Status::ok();
}

// The pad descriptor and the number of output elements.
inline Status plan_pad(const Shape& in_shape, const Shape& before, const Shape& after, k::PadDesc* d, int64_t* n) {
  int rank = (int)in_shape.size();
  if (rank > kMaxRank || before.size() != in_shape.size() || after.size() != in_shape.size())
    return invalid_argument("pad: expected paddings of rank " + std::to_string(rank));
  d->rank = rank;
  *n = 1;
  for (int i = 0; i < rank; ++i) {
    if (before[i] < 0 || after[i] < 0) return invalid_argument("pad: paddings must be >= 0");
    d->in_shape[i] = in_shape[i];
    d->before[i] = before[i];
    d->out_shape[i] = in_shape[i] + before[i] + after[i];
    *n *= d->out_shape[i];
  }
  return Status::ok();
}

}  // namespace cuda
}  // namespace cn
