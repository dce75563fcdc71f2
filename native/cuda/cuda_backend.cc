// The cuda probe (what can run and why not), the process-wide CudaBackend, its options and
// its memory methods.
#include "cuda_backend.h"

#include <cuda_runtime_api.h>

#include <cstring>
#include <mutex>

#include "cuda_probe.h"
#include "loader.h"

namespace cn {

namespace cuda {

Options& options() {
  static Options o;
  return o;
}

namespace {

// Note [compute capability]: the build carries sm_80 and sm_90 code plus compute_90 PTX,
// so 8.x runs the sm_80 code, 9.x its own, and later GPUs JIT the PTX; older GPUs have
// nothing that runs, and CUDA 13 itself stops at 7.5.
constexpr int kMinCcMajor = 8;

std::string cuda_version_str(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::mutex g_mu;  // guards g_info after the first probe
CudaInfo g_info;

CudaInfo probe_once() {
  CudaInfo info;
  info.compiled = true;
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);  // 0 without a driver
  cudaGetLastError();

  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    std::string call = std::string("cudaGetDeviceCount: ") +
                       (e == cudaErrorInsufficientDriver ? "insufficient driver"
                                                         : cudaGetErrorString(e)) +
                       ", error " + std::to_string((int)e);
    if (e == cudaErrorNoDevice)
      info.reason = "no CUDA device (" + call + ")";
    else if (e == cudaErrorInsufficientDriver && info.driver_version > 0)
      info.reason = "CUDA driver too old: it supports CUDA " +
                    cuda_version_str(info.driver_version) + ", this build needs " +
                    cuda_version_str(info.runtime_version) + " (" + call + ")";
    else if (e == cudaErrorInsufficientDriver)
      info.reason = "no CUDA driver (" + call + ")";
    else
      info.reason = "CUDA unavailable (" + call + ")";
    return info;
  }
  if (count == 0) {
    info.reason = "no CUDA device";
    return info;
  }
  cudaDeviceProp prop;
  e = cudaGetDeviceProperties(&prop, 0);
  if (e != cudaSuccess) {
    cudaGetLastError();
    info.reason = std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(e);
    return info;
  }
  info.device_name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  if (prop.major < kMinCcMajor) {
    info.reason = "GPU " + info.device_name + " has compute capability " +
                  std::to_string(prop.major) + "." + std::to_string(prop.minor) +
                  "; this build needs 8.0 or newer";
    return info;
  }

  LoadResult dnn = load_cudnn(&info.searched);
  info.cudnn_version = dnn.version;
  if (!dnn.ok) {
    info.reason = dnn.error;
    return info;
  }
  info.cudnn_path = dnn.path;
  LoadResult blas = load_cublas(&info.searched);
  info.cublas_version = blas.version;
  if (!blas.ok) {
    info.reason = blas.error;
    return info;
  }
  info.cublas_path = blas.path;
  info.available = true;
  return info;
}

const CudaInfo& probed() {  // call with g_mu held
  static bool done = false;
  if (!done) {
    g_info = probe_once();
    done = true;
  }
  return g_info;
}

}  // namespace
}  // namespace cuda

CudaInfo cuda_probe() {
  std::lock_guard<std::mutex> lock(cuda::g_mu);
  return cuda::probed();
}

CudaLibraries cuda_libraries() {
  CudaLibraries l;
  for (auto [lib, load] : {std::make_pair(&l.cudnn, &cuda::load_cudnn), std::make_pair(&l.cublas, &cuda::load_cublas)}) {
    cuda::LoadResult r = load(&l.searched);
    lib->ok = r.ok;
    lib->version = r.version;
    lib->path = r.path;
    lib->error = r.error;
  }
  return l;
}

Backend* cuda_backend() {
  std::lock_guard<std::mutex> lock(cuda::g_mu);
  // Note [leaked singleton]: never destroyed, so no cudaFree or cuDNN call runs after the
  // CUDA runtime has been torn down at process exit.
  static CudaBackend* backend = nullptr;
  static bool tried = false;
  if (tried) return backend;
  if (!cuda::probed().available) return nullptr;  // cached: stays unavailable
  tried = true;
  auto* b = new CudaBackend();
  Status s = b->init();
  if (!s.is_ok()) {
    cuda::g_info.available = false;
    cuda::g_info.reason = "CUDA initialization failed: " + s.message();
    return nullptr;  // b leaks on purpose: its half-made handles may be unsafe to destroy
  }
  backend = b;
  return backend;
}

void cuda_set_options(bool allow_tf32, bool autotune, bool graph_conv) {
  cuda::options().allow_tf32 = allow_tf32;
  cuda::options().autotune = autotune;
  cuda::options().graph_conv = graph_conv;
}

// ---- CudaBackend lifecycle and memory

namespace {
// Note [cuBLAS workspace]: cuBLAS would otherwise cudaMalloc its own; NVIDIA recommends
// 32 MiB on Hopper (4 MiB suffices on Ampere).
constexpr size_t kCublasWorkspace = 32u << 20;
}  // namespace

Status CudaBackend::init() {
  using namespace cuda;
  CN_CUDA_CHECK(cudaSetDevice(0), "");
  CN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "");
  CN_CUDNN_CHECK(cudnn().cudnnCreate(&cudnn_), "");
  CN_CUDNN_CHECK(cudnn().cudnnSetStream(cudnn_, stream_), "");
  CN_CUBLAS_CHECK(cublas().cublasCreate_v2(&cublas_), "");
  CN_CUBLAS_CHECK(cublas().cublasSetStream_v2(cublas_, stream_), "");
  CN_RETURN_IF_ERROR(alloc_.allocate(&cublas_workspace_, kCublasWorkspace));
  CN_CUBLAS_CHECK(cublas().cublasSetWorkspace_v2(cublas_, cublas_workspace_, kCublasWorkspace), "");
  CN_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&bad_label_host_), 4 * sizeof(int), cudaHostAllocMapped),
                "device error flag");
  std::memset(bad_label_host_, 0, 4 * sizeof(int));
  CN_CUDA_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&bad_label_dev_), bad_label_host_, 0),
                "device error flag");
  return Status::ok();
}

Status CudaBackend::take_device_error() {
  if (!bad_label_host_ || !bad_label_host_[0]) return Status::ok();
  const int label = bad_label_host_[1], row = bad_label_host_[2], cols = bad_label_host_[3];
  std::memset(bad_label_host_, 0, 4 * sizeof(int));
  return invalid_argument("sparseSoftmaxCrossEntropy: expected labels in [0, " + std::to_string(cols) +
                          ") but received " + std::to_string(label) + " (row " + std::to_string(row) +
                          "); the loss and gradient of that row are NaN (found by the cuda kernel, "
                          "reported at the next synchronization)");
}

CudaBackend::~CudaBackend() {
  using namespace cuda;
  if (stream_) cudaStreamSynchronize(stream_);
  conv_cache_.reset();
  if (cublas_) cublas().cublasDestroy_v2(cublas_);
  if (cudnn_) cudnn().cudnnDestroy(cudnn_);
  if (cublas_workspace_) alloc_.release(cublas_workspace_);
  if (bad_label_host_) cudaFreeHost(bad_label_host_);
  alloc_.empty_cache();
  for (cudaEvent_t e : timer_events_) cudaEventDestroy(e);
  if (stream_) cudaStreamDestroy(stream_);
}

Status CudaBackend::allocate(void** ptr, size_t bytes) {
  if (!ptr) return invalid_argument("cuda allocate: null output pointer");
  return alloc_.allocate(ptr, bytes);
}

void CudaBackend::release(void* ptr, size_t /*bytes*/) { alloc_.release(ptr); }

namespace {
std::string bytes_ctx(size_t bytes) { return std::to_string(bytes) + " bytes"; }
}  // namespace

// Note [pageable uploads]: cudaMemcpyAsync from pageable host memory copies into a staging
// buffer before it returns, so the caller may reuse its buffer at once; the transfer stays
// in stream order with the kernels around it.
Status CudaBackend::upload(void* dst, const void* src_host, size_t bytes) {
  if (bytes == 0) return Status::ok();
  if (!dst || !src_host) return invalid_argument("cuda upload: null pointer for " + bytes_ctx(bytes));
  CN_CUDA_CHECK(cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, stream_),
                "upload " + bytes_ctx(bytes));
  return Status::ok();
}

Status CudaBackend::download(void* dst_host, const void* src, size_t bytes) {
  if (bytes == 0) return synchronize();
  if (!context_error_.empty()) return backend_error(context_error_);
  if (!dst_host || !src) return invalid_argument("cuda download: null pointer for " + bytes_ctx(bytes));
  CN_CUDA_CHECK(cudaMemcpyAsync(dst_host, src, bytes, cudaMemcpyDeviceToHost, stream_),
                "download " + bytes_ctx(bytes));
  CN_CUDA_CHECK(cudaStreamSynchronize(stream_),
                "download " + bytes_ctx(bytes) + "; the error may come from earlier queued work");
  return take_device_error();
}

Status CudaBackend::copy(void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || dst == src) return Status::ok();
  if (!dst || !src) return invalid_argument("cuda copy: null pointer for " + bytes_ctx(bytes));
  CN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_),
                "copy " + bytes_ctx(bytes));
  return Status::ok();
}

Status CudaBackend::synchronize() {
  if (!context_error_.empty()) return backend_error(context_error_);
  CN_CUDA_CHECK(cudaStreamSynchronize(stream_), "the error may come from earlier queued work");
  return take_device_error();
}


// A mark is an event recorded on the stream; its id indexes timer_events_.
Status CudaBackend::timer_mark(int64_t* mark) {
  if (timer_used_ == timer_events_.size()) {
    cudaEvent_t e = nullptr;
    CN_CUDA_CHECK(cudaEventCreate(&e), "timer event");
    timer_events_.push_back(e);
  }
  CN_CUDA_CHECK(cudaEventRecord(timer_events_[timer_used_], stream_), "timer event");
  *mark = (int64_t)timer_used_++;
  return Status::ok();
}

Status CudaBackend::timer_elapsed_ms(int64_t from, int64_t to, double* ms) {
  if (from < 0 || to < 0 || (size_t)from >= timer_used_ || (size_t)to >= timer_used_)
    return Status(StatusCode::kInternal, "cuda timer: unknown mark " + std::to_string(from) + " or " + std::to_string(to));
  float f = 0;
  CN_CUDA_CHECK(cudaEventElapsedTime(&f, timer_events_[from], timer_events_[to]), "timer events");
  *ms = f;
  return Status::ok();
}

void CudaBackend::timer_reset() { timer_used_ = 0; }

}  // namespace cn
