// The cpu backend's data movement bodies, templated on the element (movement.cc): uint32_t
// for float32 / int32 (CpuBackend's methods) and uint16_t for bfloat16 / float16
// (CpuReducedPrecision's, bf16_movement.cc). They copy bits, so every 2-byte value (NaN
// payloads, subnormals, -0) moves unchanged.
#pragma once
#include <cstdint>

#include "../core/params.h"
#include "../core/shape.h"
#include "../core/status.h"

namespace cn {
namespace cpu {

template <typename E>
Status transpose_elems(void* out, const void* in, const TransposeParams& p);
template <typename E>
Status copy_slab_elems(void* out, const void* in, int64_t outer, int64_t in_axis, int64_t out_axis,
                       int64_t offset, int64_t inner, bool into_out);
template <typename E>
Status slice_elems(void* out, const void* in, const Shape& in_shape, const Shape& begin, const Shape& size);
template <typename E>
Status pad_elems(E* out, const E* in, const Shape& in_shape, const Shape& before, const Shape& after, E value);

}  // namespace cpu
}  // namespace cn
