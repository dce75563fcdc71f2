// Launch geometry shared by the .cu files and the host-side kernel tests (plain C++):
// threads per block and the capped block count of a grid-stride loop.
#pragma once
#include <cstdint>

namespace cn {
namespace cuda {
namespace k {

constexpr int kThreads = 256;

// Blocks for n elements in a grid-stride loop (capped; the loop covers the rest).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65536) b = 65536;
  return (unsigned)b;
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
