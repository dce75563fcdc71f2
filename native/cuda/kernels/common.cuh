// Launch helpers shared by the .cu files: grid sizing (grid.h), grid-stride loops, warp
// reductions.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "grid.h"
#include "kernels.h"

namespace cn {
namespace cuda {
namespace k {

#define CN_FOR_EACH(i, n)                                                     \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (int64_t)gridDim.x * blockDim.x)

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
