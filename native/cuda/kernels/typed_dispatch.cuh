// Storage-type dispatch for the kernels on bfloat16 / float16 (reduced_elementwise.cu,
// reduced_layout.cu, and the typed launchers of pool.cu and batchnorm.cu).
//
// Note [typed dispatch]: a launcher turns each dtype code into a storage type (float, Bf16,
// Fp16: half_types.h) and instantiates only the combinations the ReducedPrecisionOps calls
// can make (an operand is float32 or the op's reduced type; float32-only ops go to the
// float32 kernels), so that the three GPU targets compile a few dozen kernels, not every
// product of types: with_reduced_type where the type is bfloat16 or float16, with_type where
// float32 is one of the choices.
#pragma once
#include <cuda_runtime.h>

#include <type_traits>

#include "half_types.h"

namespace cn {
namespace cuda {
namespace k {

#define CN_THREAD0 ((int64_t)blockIdx.x * blockDim.x + threadIdx.x)
#define CN_STRIDE ((int64_t)gridDim.x * blockDim.x)

// f(T{}) with T the storage type of code: Bf16 or Fp16 (an error for any other code).
template <typename F>
cudaError_t with_reduced_type(int code, F f) {
  if (code == kBF16) return f(Bf16{});
  if (code == kF16) return f(Fp16{});
  return cudaErrorInvalidValue;
}
// The same with float32 (kF32: float) as a third choice.
template <typename F>
cudaError_t with_type(int code, F f) {
  if (code == kF32) return f(float{});
  return with_reduced_type(code, f);
}
// The reduced code of a pair, one of which may be float32 (kF32 if both are).
inline int reduced_of(int a, int b) { return a != kF32 ? a : b; }

}  // namespace k
}  // namespace cuda
}  // namespace cn
