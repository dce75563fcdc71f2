// Checked calls for the cuda backend. Every CUDA runtime, cuDNN and cuBLAS call goes through
// one of these macros: on failure the enclosing function returns a Status naming the call,
// the error, file:line and (evaluated only then) a context string with the shapes involved.
#pragma once
#include <cuda_runtime_api.h>

#include <string>

#include "../core/status.h"
#include "loader.h"

namespace cn {
namespace cuda {

// "native/cuda/conv.cc:123" rather than the build machine's absolute path.
inline std::string where(const char* file, int line) {
  std::string f = file;
  size_t p = f.rfind("native/");
  return (p == std::string::npos ? f : f.substr(p)) + ":" + std::to_string(line);
}

inline Status cuda_status(cudaError_t e, const char* call, const char* file, int line,
                          const std::string& ctx) {
  std::string m = std::string("cuda: ") + call + " failed: " + cudaGetErrorName(e) + " (" +
                  cudaGetErrorString(e) + ") at " + where(file, line);
  if (!ctx.empty()) m += " [" + ctx + "]";
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  return e == cudaErrorMemoryAllocation ? out_of_memory(m) : backend_error(m);
}

// Note [cuDNN out of memory]: cuDNN 9 reports a failed host allocation as 4003
// (CUDNN_STATUS_ALLOC_FAILED is its deprecated alias) and a failed device allocation as 4004;
// both are ERR_OUT_OF_MEMORY, which callers may retry with less memory in use.
inline bool cudnn_status_is_out_of_memory(int s) {
  return s == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
         s == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
}

inline Status cudnn_status(cudnnStatus_t s, const char* call, const char* file, int line,
                           const std::string& ctx) {
  std::string m = std::string("cudnn: ") + call + " failed: " + cudnn().cudnnGetErrorString(s);
  char detail[512] = {0};
  cudnn().cudnnGetLastErrorString(detail, sizeof(detail));
  if (detail[0]) m += std::string(" (") + detail + ")";
  m += " at " + where(file, line);
  if (!ctx.empty()) m += " [" + ctx + "]";
  return cudnn_status_is_out_of_memory((int)s) ? out_of_memory(m) : backend_error(m);
}

inline Status cublas_status(cublasStatus_t s, const char* call, const char* file, int line,
                            const std::string& ctx) {
  std::string m = std::string("cublas: ") + call + " failed: " +
                  cublas().cublasGetStatusString(s) + " at " + where(file, line);
  if (!ctx.empty()) m += " [" + ctx + "]";
  return s == CUBLAS_STATUS_ALLOC_FAILED ? out_of_memory(m) : backend_error(m);
}

}  // namespace cuda
}  // namespace cn

// ctx is an expression yielding std::string, evaluated only on failure.
#define CN_CUDA_CHECK(call, ctx)                                                    \
  do {                                                                              \
    cudaError_t _cn_e = (call);                                                     \
    if (_cn_e != cudaSuccess)                                                       \
      return ::cn::cuda::cuda_status(_cn_e, #call, __FILE__, __LINE__, (ctx));      \
  } while (0)

#define CN_CUDNN_CHECK(call, ctx)                                                   \
  do {                                                                              \
    cudnnStatus_t _cn_s = (call);                                                   \
    if (_cn_s != CUDNN_STATUS_SUCCESS)                                              \
      return ::cn::cuda::cudnn_status(_cn_s, #call, __FILE__, __LINE__, (ctx));     \
  } while (0)

#define CN_CUBLAS_CHECK(call, ctx)                                                  \
  do {                                                                              \
    cublasStatus_t _cn_s = (call);                                                  \
    if (_cn_s != CUBLAS_STATUS_SUCCESS)                                             \
      return ::cn::cuda::cublas_status(_cn_s, #call, __FILE__, __LINE__, (ctx));    \
  } while (0)

// A kernel launcher returns the launch's cudaError_t; same reporting as CN_CUDA_CHECK.
#define CN_LAUNCH_CHECK(launch, ctx) CN_CUDA_CHECK(launch, ctx)
