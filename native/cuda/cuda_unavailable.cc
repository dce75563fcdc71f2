// Stand-in for the cuda backend in builds without it (cmake/cuda.cmake turned it off):
// the same probe API, reporting compiled=false, so the binding needs no #ifdef.
#ifndef CN_WITH_CUDA
#include "cuda_probe.h"

namespace cn {

CudaInfo cuda_probe() {
  CudaInfo info;
  info.compiled = false;
  info.available = false;
  info.reason = "not compiled in (this build has no cuda backend: nvcc or the cuDNN/cuBLAS "
                "headers were missing at build time, or -DCN_WITH_CUDA=OFF)";
  return info;
}

Backend* cuda_backend() { return nullptr; }

const ReducedPrecisionOps* cuda_reduced_precision_info() { return nullptr; }

CudaLibraries cuda_libraries() {
  CudaLibraries l;
  l.cudnn.error = l.cublas.error = "not compiled in";
  return l;
}

void cuda_set_options(bool, bool, bool) {}

}  // namespace cn
#endif  // CN_WITH_CUDA
