// cast_fill.cc: CpuBackend cast (float32, int32 and uint8, Note [float to int]) and fill.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::kGrain;
using cpu::parallel_for;

// Note [float to int]: C++ leaves out-of-range float->int conversion undefined. We truncate
// toward zero like TF, send NaN to 0 and saturate at the int32 limits; uint8 then wraps
// modulo 256 as TF's static_cast does on x86 (tf.cast(300., tf.uint8) == 44).
CN_INLINE int32_t float_to_i32(float x) {
  return x != x ? 0
         : x >= 2147483648.0f  ? std::numeric_limits<int32_t>::max()
         : x <= -2147483648.0f ? std::numeric_limits<int32_t>::min()
                               : (int32_t)x;
}
inline int32_t double_to_i32(double x) {
  if (x != x) return 0;
  if (x >= 2147483647.0) return std::numeric_limits<int32_t>::max();
  if (x <= -2147483648.0) return std::numeric_limits<int32_t>::min();
  return (int32_t)x;
}

template <class To, class From, class F>
void convert_kernel(To* o, const From* x, int64_t s, int64_t e, F f) {
  for (int64_t i = s; i < e; ++i) o[i] = f(x[i]);
}

template <class To, class From, class F>
void convert(void* out, const void* in, int64_t n, F f) {
  To* o = static_cast<To*>(out);
  const From* x = static_cast<const From*>(in);
  parallel_for(n, kGrain, [=](int64_t s, int64_t e) { convert_kernel(o, x, s, e, f); });
}

bool known_dtype(DType d) {
  return d == DType::kFloat32 || d == DType::kInt32 || d == DType::kUint8;
}

}  // namespace

Status CpuBackend::cast(void* out, DType out_dtype, const void* in, DType in_dtype, int64_t n) {
  if (n < 0) return invalid_argument("cast: negative element count " + std::to_string(n));
  if (!known_dtype(out_dtype) || !known_dtype(in_dtype))
    return invalid_argument("cast: unknown dtype " +
                            std::to_string((int)(known_dtype(out_dtype) ? in_dtype : out_dtype)));
  if (n == 0) return Status::ok();
  if (!out || !in) return invalid_argument("cast: null buffer");
  if (out_dtype == in_dtype) {
    if (out != in) std::memmove(out, in, (size_t)n * dtype_size(in_dtype));
    return Status::ok();
  }
  // Note [in-place cast]: float32 <-> int32 may run in place (same element size); each
  // element is read before it is written. uint8 conversions need distinct buffers.
  using u8 = uint8_t;
  if (in_dtype == DType::kFloat32 && out_dtype == DType::kInt32)
    convert<int32_t, float>(out, in, n, [](float v) { return float_to_i32(v); });
  else if (in_dtype == DType::kFloat32 && out_dtype == DType::kUint8)
    convert<u8, float>(out, in, n, [](float v) { return (u8)(uint32_t)float_to_i32(v); });
  else if (in_dtype == DType::kInt32 && out_dtype == DType::kFloat32)
    convert<float, int32_t>(out, in, n, [](int32_t v) { return (float)v; });
  else if (in_dtype == DType::kInt32 && out_dtype == DType::kUint8)
    convert<u8, int32_t>(out, in, n, [](int32_t v) { return (u8)(uint32_t)v; });
  else if (in_dtype == DType::kUint8 && out_dtype == DType::kFloat32)
    convert<float, u8>(out, in, n, [](u8 v) { return (float)v; });
  else  // uint8 -> int32
    convert<int32_t, u8>(out, in, n, [](u8 v) { return (int32_t)v; });
  return Status::ok();
}

Status CpuBackend::fill(void* out, DType dtype, double value, int64_t n) {
  if (n < 0) return invalid_argument("fill: negative element count " + std::to_string(n));
  if (!known_dtype(dtype))
    return invalid_argument("fill: unknown dtype " + std::to_string((int)dtype));
  if (n == 0) return Status::ok();
  if (!out) return invalid_argument("fill: null buffer");
  switch (dtype) {
    case DType::kFloat32: {
      float* o = static_cast<float*>(out);
      const float v = (float)value;
      parallel_for(n, kGrain, [&](int64_t s, int64_t e) { std::fill(o + s, o + e, v); });
      break;
    }
    case DType::kInt32: {
      int32_t* o = static_cast<int32_t*>(out);
      const int32_t v = double_to_i32(value);
      parallel_for(n, kGrain, [&](int64_t s, int64_t e) { std::fill(o + s, o + e, v); });
      break;
    }
    case DType::kUint8: {
      const uint8_t v = (uint8_t)(uint32_t)double_to_i32(value);
      uint8_t* o = static_cast<uint8_t*>(out);
      parallel_for(n, kGrain * 4,
                   [=](int64_t s, int64_t e) { std::memset(o + s, v, (size_t)(e - s)); });
      break;
    }
  }
  return Status::ok();
}

}  // namespace cn
