// CpuReducedPrecision, part 4: data movement on bfloat16 / float16 storage (transpose,
// concat's slab copies, slice, pad). These only move 2-byte elements, so they run for
// float16 too (storage kernels), on the same bodies as the float32 ones (movement.h)
// instantiated for uint16_t: bit for bit, whatever the values.
#include <cstring>

#include "bf16_backend.h"
#include "movement.h"

namespace cn {

namespace {

Status check_pair(const char* op, TypedPtr out, TypedPtr in) {
  if (!is_reduced_precision(in.dtype) || out.dtype != in.dtype)
    return invalid_argument(std::string(op) + ": expected in and out of one 2-byte dtype but received " +
                            dtype_name(in.dtype) + " and " + dtype_name(out.dtype));
  return Status::ok();
}

}  // namespace

Status CpuReducedPrecision::transpose(TypedPtr out, TypedPtr in, const TransposeParams& p) {
  CN_RETURN_IF_ERROR(check_pair("transpose", out, in));
  return cpu::transpose_elems<uint16_t>(out.data, in.data, p);
}

Status CpuReducedPrecision::copy_slab(TypedPtr out, TypedPtr in, int64_t outer, int64_t in_axis, int64_t out_axis,
                                      int64_t offset, int64_t inner, bool into_out) {
  CN_RETURN_IF_ERROR(check_pair("copy_slab", out, in));
  return cpu::copy_slab_elems<uint16_t>(out.data, in.data, outer, in_axis, out_axis, offset, inner, into_out);
}

Status CpuReducedPrecision::slice(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& begin,
                                  const Shape& size) {
  CN_RETURN_IF_ERROR(check_pair("slice", out, in));
  return cpu::slice_elems<uint16_t>(out.data, in.data, in_shape, begin, size);
}

// The padding value is rounded to the dtype as a cast would round it (0 stays +0).
Status CpuReducedPrecision::pad(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& before,
                                const Shape& after, float value) {
  CN_RETURN_IF_ERROR(check_pair("pad", out, in));
  uint16_t bits = 0;
  CN_RETURN_IF_ERROR(cast(TypedPtr(&bits, in.dtype), TypedPtr(&value, DType::kFloat32), 1));
  return cpu::pad_elems<uint16_t>(static_cast<uint16_t*>(out.data), static_cast<const uint16_t*>(in.data), in_shape,
                                  before, after, bits);
}

}  // namespace cn
