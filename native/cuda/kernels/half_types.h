// The 16-bit storage types of the cuda kernels (bfloat16 and IEEE float16), as host + device
// code: Bf16 and Fp16 hold the bits, to_f() widens to float exactly, from_f<T>() rounds a
// float to nearest even. The kernels templated on their storage type (elementwise_body.h,
// batchnorm_body.h, pool_body.h, softmax_body.h) load T, compute in float and store T, so
// float storage (T = float) runs the very same code.
//
// Note [one conversion code]: the conversions are integer bit manipulation, not the CUDA
// intrinsics (__float2bfloat16_rn, __float2half_rn), so that the host tests
// (native/cuda/selftest/host_reduced_test.cc) check, bit for bit against a float64
// reference, the code the device runs. They match TensorFlow's tf.cast (Eigen's
// conversions): round to nearest even, overflow to infinity, float16 subnormals kept,
// NaN stays NaN (quiet, with its sign), -0 stays -0. The kernels are memory-bound, so the
// few integer instructions cost nothing measurable next to the 2-byte loads they save.
#pragma once
#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define CN_HD_CONV __host__ __device__ __forceinline__
#else
#define CN_HD_CONV inline
#endif

namespace cn {
namespace cuda {
namespace k {

struct Bf16 {
  uint16_t bits;
};
struct Fp16 {
  uint16_t bits;
};

CN_HD_CONV uint32_t f2u(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}
CN_HD_CONV float u2f(uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

CN_HD_CONV float to_f(float v) { return v; }
CN_HD_CONV float to_f(Bf16 v) { return u2f((uint32_t)v.bits << 16); }
CN_HD_CONV float to_f(Fp16 v) {
  const uint32_t sign = (uint32_t)(v.bits & 0x8000u) << 16;
  const uint32_t e = (v.bits >> 10) & 0x1fu, m = v.bits & 0x3ffu;
  if (e == 0) {  // zero or subnormal: m * 2^-24, exact in float
    const float mag = (float)m * 5.9604644775390625e-8f;
    return u2f(sign | f2u(mag));
  }
  if (e == 31) return u2f(sign | 0x7f800000u | (m << 13));  // infinity, NaN (payload kept)
  return u2f(sign | ((e + 112u) << 23) | (m << 13));
}

CN_HD_CONV Bf16 bf16_from(float f) {
  const uint32_t u = f2u(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return Bf16{(uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u)};  // NaN
  return Bf16{(uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}

// float -> float16, round to nearest even (Fabian Giesen's float_to_half_fast3_rtne).
CN_HD_CONV Fp16 fp16_from(float f) {
  uint32_t u = f2u(f);
  const uint32_t sign = u & 0x80000000u;
  u ^= sign;
  uint32_t o;
  if (u >= 0x47800000u) {  // >= 65536 (after rounding: infinity) or infinity / NaN
    o = u > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (u < 0x38800000u) {  // below 2^-14: a subnormal or zero; the float add rounds
    const uint32_t magic = 0x3f000000u;  // 0.5f: its ulp is float16's smallest subnormal
    o = f2u(u2f(u) + u2f(magic)) - magic;
  } else {
    const uint32_t odd = (u >> 13) & 1u;
    u += 0xc8000fffu + odd;  // rebias the exponent (15 - 127) and round
    o = u >> 13;
  }
  return Fp16{(uint16_t)(o | (sign >> 16))};
}

// from_f<T>(v): v rounded to T.
template <typename T>
CN_HD_CONV T from_f(float v);
template <>
CN_HD_CONV float from_f<float>(float v) { return v; }
template <>
CN_HD_CONV Bf16 from_f<Bf16>(float v) { return bf16_from(v); }
template <>
CN_HD_CONV Fp16 from_f<Fp16>(float v) { return fp16_from(v); }

// The dtype codes of cn::DType the typed launchers take (core/shape.h's order).
enum StorageCode { kF32 = 0, kBF16 = 3, kF16 = 4 };

}  // namespace k
}  // namespace cuda
}  // namespace cn
