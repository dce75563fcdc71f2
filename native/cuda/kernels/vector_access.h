// Host + device helpers for the per-thread kernel bodies (batchnorm_body.h, pool_body.h):
// the CN_HD qualifier and W-wide loads and stores, 16-byte vector accesses on the device
// for W == 4 (the caller guarantees alignment), plain loops on the host. Loads from and
// stores to the 16-bit storage types (half_types.h) widen to / round from float, with one
// 8-byte access for W == 4 on the device.
#pragma once
#include <cstdint>

#include "half_types.h"

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define CN_HD __host__ __device__ __forceinline__
#else
#define CN_HD inline
#endif

namespace cn {
namespace cuda {
namespace k {

#ifdef __CUDA_ARCH__
template <typename T>
struct Vec4;  // the 16-byte vector type of T
template <>
struct Vec4<float> {
  using type = float4;
};
template <>
struct Vec4<int> {
  using type = int4;
};
#endif

template <int W, typename T>
CN_HD void load(T (&v)[W], const T* p) {
#ifdef __CUDA_ARCH__
  if constexpr (W == 4) {
    const typename Vec4<T>::type t = *reinterpret_cast<const typename Vec4<T>::type*>(p);
    v[0] = t.x;
    v[1] = t.y;
    v[2] = t.z;
    v[3] = t.w;
  } else
#endif
  {
    for (int j = 0; j < W; ++j) v[j] = p[j];
  }
}

template <int W, typename T>
CN_HD void store(T* p, const T (&v)[W]) {
#ifdef __CUDA_ARCH__
  if constexpr (W == 4) {
    typename Vec4<T>::type t;
    t.x = v[0];
    t.y = v[1];
    t.z = v[2];
    t.w = v[3];
    *reinterpret_cast<typename Vec4<T>::type*>(p) = t;
  } else
#endif
  {
    for (int j = 0; j < W; ++j) p[j] = v[j];
  }
}

// W values of a 16-bit storage type S (Bf16, Fp16), widened to float / rounded from float.
template <int W, typename S>
CN_HD void load16(float (&v)[W], const S* p) {
#ifdef __CUDA_ARCH__
  if constexpr (W == 4) {
    const uint2 t = *reinterpret_cast<const uint2*>(p);
    v[0] = to_f(S{(uint16_t)(t.x & 0xffffu)});
    v[1] = to_f(S{(uint16_t)(t.x >> 16)});
    v[2] = to_f(S{(uint16_t)(t.y & 0xffffu)});
    v[3] = to_f(S{(uint16_t)(t.y >> 16)});
  } else
#endif
  {
    for (int j = 0; j < W; ++j) v[j] = to_f(p[j]);
  }
}
template <int W, typename S>
CN_HD void store16(S* p, const float (&v)[W]) {
#ifdef __CUDA_ARCH__
  if constexpr (W == 4) {
    uint2 t;
    t.x = (uint32_t)from_f<S>(v[0]).bits | ((uint32_t)from_f<S>(v[1]).bits << 16);
    t.y = (uint32_t)from_f<S>(v[2]).bits | ((uint32_t)from_f<S>(v[3]).bits << 16);
    *reinterpret_cast<uint2*>(p) = t;
  } else
#endif
  {
    for (int j = 0; j < W; ++j) p[j] = from_f<S>(v[j]);
  }
}
template <int W>
CN_HD void load(float (&v)[W], const Bf16* p) { load16<W, Bf16>(v, p); }
template <int W>
CN_HD void load(float (&v)[W], const Fp16* p) { load16<W, Fp16>(v, p); }
template <int W>
CN_HD void store(Bf16* p, const float (&v)[W]) { store16<W, Bf16>(p, v); }
template <int W>
CN_HD void store(Fp16* p, const float (&v)[W]) { store16<W, Fp16>(p, v); }

inline bool aligned16(const void* p) { return p == nullptr || (reinterpret_cast<uintptr_t>(p) & 15) == 0; }
// Whether p (null: no operand) is aligned for a W = 4 vector of `bytes` per element.
inline bool aligned_vec(const void* p, int64_t elem_bytes) {
  return p == nullptr || (reinterpret_cast<uintptr_t>(p) & (uintptr_t)(4 * elem_bytes - 1)) == 0;
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
