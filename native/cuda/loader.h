// Run-time loading of cuDNN 9 and cuBLAS: dlopen + a table of function pointers, so the
// addon links neither library and loads on machines that have neither. The tables take
// each function's type from the real headers (decltype), so a signature change is a
// compile error rather than a crash.
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

#include <string>
#include <vector>

namespace cn {
namespace cuda {

// Every cuDNN function the backend calls. Add a name here to use it as cudnn().name(...).
#define CN_CUDNN_FUNCTIONS(X)                                                               \
  X(cudnnGetVersion) X(cudnnGetErrorString) X(cudnnGetLastErrorString) X(cudnnCreate)      \
  X(cudnnDestroy) X(cudnnSetStream) X(cudnnCreateTensorDescriptor)                         \
  X(cudnnDestroyTensorDescriptor) X(cudnnSetTensor4dDescriptor)                            \
  X(cudnnCreateFilterDescriptor) X(cudnnDestroyFilterDescriptor)                           \
  X(cudnnSetFilter4dDescriptor) X(cudnnCreateConvolutionDescriptor)                        \
  X(cudnnDestroyConvolutionDescriptor) X(cudnnSetConvolution2dDescriptor)                  \
  X(cudnnSetConvolutionGroupCount) X(cudnnSetConvolutionMathType)                          \
  X(cudnnGetConvolution2dForwardOutputDim) X(cudnnGetConvolutionForwardAlgorithm_v7)       \
  X(cudnnGetConvolutionBackwardDataAlgorithm_v7)                                           \
  X(cudnnGetConvolutionBackwardFilterAlgorithm_v7)                                         \
  X(cudnnFindConvolutionForwardAlgorithmEx) X(cudnnFindConvolutionBackwardDataAlgorithmEx) \
  X(cudnnFindConvolutionBackwardFilterAlgorithmEx)                                         \
  X(cudnnGetConvolutionForwardWorkspaceSize)                                               \
  X(cudnnGetConvolutionBackwardDataWorkspaceSize)                                          \
  X(cudnnGetConvolutionBackwardFilterWorkspaceSize) X(cudnnConvolutionForward)             \
  X(cudnnConvolutionBackwardData) X(cudnnConvolutionBackwardFilter)                        \
  X(cudnnConvolutionBiasActivationForward) X(cudnnCreateActivationDescriptor)               \
  X(cudnnSetActivationDescriptor) X(cudnnDestroyActivationDescriptor)                       \
  X(cudnnBackendCreateDescriptor) X(cudnnBackendDestroyDescriptor) X(cudnnBackendFinalize) \
  X(cudnnBackendSetAttribute) X(cudnnBackendGetAttribute) X(cudnnBackendExecute)

// Every cuBLAS function the backend calls (the exported names: cublas_v2.h maps
// cublasCreate to cublasCreate_v2 and so on).
#define CN_CUBLAS_FUNCTIONS(X)                                                             \
  X(cublasGetProperty) X(cublasGetStatusString) X(cublasCreate_v2) X(cublasDestroy_v2)    \
  X(cublasSetStream_v2) X(cublasSetWorkspace_v2)

struct CudnnApi {
#define CN_DECLARE_FN(name) decltype(&::name) name = nullptr;
  CN_CUDNN_FUNCTIONS(CN_DECLARE_FN)
};

struct CublasApi {
  CN_CUBLAS_FUNCTIONS(CN_DECLARE_FN)
#undef CN_DECLARE_FN
  // Spelled out: in C++ the header adds an inline overload, so decltype cannot pick one.
  cublasStatus_t (*cublasGemmStridedBatchedEx)(
      cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
      const void*, cudaDataType, int, long long int, const void*, cudaDataType, int,
      long long int, const void*, void*, cudaDataType, int, long long int, int,
      cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
};

struct LoadResult {
  bool ok = false;
  std::string error;  // why not, when !ok: "cuDNN not found (searched: ...)", ...
  std::string path;   // the library loaded
  int version = 0;
};

// Each loads once per process (later calls return the first result) and appends every
// path it tried to *searched. Thread-safe.
LoadResult load_cudnn(std::vector<std::string>* searched);
LoadResult load_cublas(std::vector<std::string>* searched);

// The tables; valid only after the matching load_* succeeded.
const CudnnApi& cudnn();
const CublasApi& cublas();

}  // namespace cuda
}  // namespace cn
