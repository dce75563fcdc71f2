// The cuda backend's public face for the binding: what was compiled in, what can run and
// exactly why not, and the process-wide CudaBackend. Implemented by cuda_backend.cc when the
// backend is compiled in (CN_WITH_CUDA) and by cuda_unavailable.cc otherwise, so callers
// never need an #ifdef.
#pragma once
#include <string>
#include <vector>

#include "../core/backend.h"

namespace cn {

struct CudaInfo {
  bool compiled = false;   // the cuda backend is part of this build
  bool available = false;  // compiled, driver + device present, cuDNN 9 and cuBLAS loaded
  // Why not available: "not compiled in", "no CUDA driver (cudaGetDeviceCount: insufficient
  // driver, error 35)", "no CUDA device", "cuDNN not found (searched: ...)",
  // "cuDNN major version 8 found, 9 required", ... Empty when available.
  std::string reason;
  std::string device_name;
  int cc_major = 0, cc_minor = 0;
  int cudnn_version = 0;    // e.g. 92400 for 9.24.0 (cudnnGetVersion)
  int cublas_version = 0;   // e.g. 130101 for 13.1.1
  int runtime_version = 0;  // CUDA runtime linked in, e.g. 13000
  int driver_version = 0;   // CUDA version the driver supports, 0 without a driver
  std::vector<std::string> searched;  // every library path tried, in order
  std::string cudnn_path, cublas_path;  // the libraries actually loaded
};

// cuDNN and cuBLAS as the loader finds them (search order, version checks), whether or not a
// driver or device is present: doctor reports them where cuda cannot run, so that a missing
// library shows up before the GPU does. Loads once per process, like the probe.
struct LibraryProbe {
  bool ok = false;
  int version = 0;
  std::string path, error;
};
struct CudaLibraries {
  LibraryProbe cudnn, cublas;
  std::vector<std::string> searched;
};
CudaLibraries cuda_libraries();

// Probes once and caches (thread-safe); never throws or aborts. If cuda_backend() later fails
// to initialize the device, the cached info turns unavailable with that reason.
CudaInfo cuda_probe();
// The process-wide cuda backend, created on first call; nullptr when !available (call
// cuda_probe() for the reason).
Backend* cuda_backend();
// What the cuda backend does with bfloat16 / float16 (its ReducedPrecisionOps, answering
// only the capability questions: computes, isa, native_*), without creating the backend
// (no CUDA context just to report it); nullptr when !available.
class ReducedPrecisionOps;
const ReducedPrecisionOps* cuda_reduced_precision_info();
// TF32 math for convolutions and matmuls (default on; off = strict fp32), and autotuning of
// convolution algorithms by measurement (default off = cuDNN heuristics), and plain
// convolutions on cuDNN's graph API instead of its legacy calls (default off; Note [API
// choice: convolution]). Takes effect on the next call; chosen algorithms are cached per
// shape and per setting.
void cuda_set_options(bool allow_tf32, bool autotune, bool graph_conv);

}  // namespace cn
