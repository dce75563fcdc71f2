// Host + device helpers for the per-thread kernel bodies (batchnorm_body.h, pool_body.h):
// the CN_HD qualifier and W-wide loads and stores, 16-byte vector accesses on the device
// for W == 4 (the caller guarantees alignment), plain loops on the host.
#pragma once
#include <cstdint>

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

inline bool aligned16(const void* p) { return p == nullptr || (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace k
}  // namespace cuda
}  // namespace cn
