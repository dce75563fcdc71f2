// CudaBackend: the cuDNN / cuBLAS / own-kernel implementation of Backend. Methods live in
// one file per op family (conv.cc, pool.cc, batchnorm.cc, matmul.cc, elementwise.cc,
// reduce.cc, movement.cc, softmax.cc, image.cc, lrn.cc, random.cc, optimizer.cc) and memory in
// cuda_backend.cc, beside the probe; the bfloat16 / float16 primitives are a separate object
// (reduced_precision(), half_backend.h). Everything runs on one stream, asynchronously: only
// download() and synchronize() wait. Not for concurrent use from several threads (one cuDNN
// handle, one stream); the binding serializes calls.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/reduced_precision.h"
#include "allocator.h"
#include "cuda_check.h"

namespace cn {
namespace cuda {

struct ConvCache;  // conv.cc: descriptors and chosen algorithms per shape
struct ConvCacheDeleter {
  void operator()(ConvCache* c) const;  // conv.cc
};

// Options set by cuda_set_options, read at each call.
struct Options {
  std::atomic<bool> allow_tf32{true};
  std::atomic<bool> autotune{false};
  // Plain convolutions on the graph API (conv_graph.h) instead of the legacy calls.
  std::atomic<bool> graph_conv{false};
};
Options& options();

// Device scratch from the caching allocator, returned when the holder goes out of scope
// (stream order makes the early return safe; see allocator.h).
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { reset(); }
  Status allocate(CachingAllocator* a, size_t bytes) {
    reset();
    alloc_ = a;
    return bytes ? a->allocate(&ptr_, bytes) : Status::ok();
  }
  void reset() {
    if (alloc_ && ptr_) alloc_->release(ptr_);
    ptr_ = nullptr;
  }
  void* get() const { return ptr_; }
  float* f32() const { return static_cast<float*>(ptr_); }

 private:
  CachingAllocator* alloc_ = nullptr;
  void* ptr_ = nullptr;
};

}  // namespace cuda

class CudaBackend final : public Backend {
 public:
  CudaBackend() { serialize = true; }
  ~CudaBackend() override;
  // Creates the stream and the cuDNN / cuBLAS handles on device 0.
  Status init();
  const char* name() const override { return "cuda"; }

  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn_handle() const { return cudnn_; }
  cublasHandle_t cublas_handle() const { return cublas_; }
  cuda::CachingAllocator& allocator() { return alloc_; }
  Status scratch(cuda::Scratch* s, size_t bytes) { return s->allocate(&alloc_, bytes); }

  Status allocate(void** ptr, size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  Status upload(void* dst, const void* src_host, size_t bytes) override;
  Status download(void* dst_host, const void* src, size_t bytes) override;
  Status copy(void* dst, const void* src, size_t bytes) override;
  Status synchronize() override;
  Status timer_mark(int64_t* mark) override;
  Status timer_elapsed_ms(int64_t from, int64_t to, double* ms) override;
  void timer_reset() override;
  // Note [device-side errors]: kernels that find bad input (sparse labels out of range)
  // record it in host-mapped memory instead of stopping the stream; download() and
  // synchronize() report it, once, as ERR_INVALID_ARGUMENT.
  Status take_device_error();
  // Note [autotune faults] (conv_graph.cc): waits for the device; where an error survives
  // clearing (a sticky error: the context is lost), marks the backend failed so that every
  // later synchronize() says so, naming `where`, instead of failing in unrelated kernels.
  // Inline so that host tools linking conv_graph.cc alone (selftest/) need no backend.
  Status check_context(const std::string& where) {
    if (!context_error_.empty()) return backend_error(context_error_);
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return Status::ok();
    cudaGetLastError();  // clears a non-sticky error
    cudaError_t again = cudaDeviceSynchronize();
    if (again == cudaSuccess) again = cudaPeekAtLastError();
    if (again == cudaSuccess) return Status::ok();
    context_error_ = std::string("cuda: the device context is unusable (") + cudaGetErrorName(again) + ": " +
                     cudaGetErrorString(again) + ") after " + where +
                     "; no further cuda work can run in this process: restart it (the cpu backend still works)";
    return backend_error(context_error_);
  }

  // bfloat16 / float16 primitives (half_backend.h), created with the backend.
  ReducedPrecisionOps* reduced_precision() override;
  // The per-shape convolution plans (conv_plan.h), shared by the float32 and the reduced-
  // precision convolutions.
  cuda::ConvCache* conv_cache();  // created on first use (conv_plan.cc)

  Status conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                        const Conv2DParams& p) override;
  Status conv2d_backward_data(float* dx, const float* dy, const float* w,
                              const Conv2DParams& p) override;
  Status conv2d_backward_filter(float* dw, float* dbias, const float* x, const float* dy,
                                const Conv2DParams& p) override;

  Status pool2d_forward(float* y, const float* x, const Pool2DParams& p) override;
  Status pool2d_backward(float* dx, const float* dy, const float* x, const Pool2DParams& p) override;
  Status max_pool_gather(float* y, const float* src, const float* x, const Pool2DParams& p) override;

  Status batchnorm_forward_training(float* y, float* batch_mean, float* batch_var, const float* x,
                                    const float* gamma, const float* beta, const float* residual,
                                    const BatchNormParams& p) override;
  Status batchnorm_forward_inference(float* y, const float* x, const float* gamma,
                                     const float* beta, const float* mean, const float* var,
                                     const float* residual, const BatchNormParams& p) override;
  Status batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                            const float* gamma, const float* beta, const float* batch_mean,
                            const float* batch_var, const BatchNormParams& p) override;

  Status matmul(float* c, const float* a, const float* b, const float* bias,
                const MatMulParams& p) override;

  Status unary(float* y, const float* x, int64_t n, UnaryOp op, float alpha) override;
  Status unary_grad(float* dx, const float* dy, const float* ref, int64_t n, UnaryGradOp op,
                    float alpha) override;
  Status binary(void* out, const void* a, const void* b, DType dtype, BinaryOp op,
                const BroadcastParams& p) override;
  Status add_relu(float* out, const float* a, const float* b, int64_t n) override;
  Status add_relu_grad(float* dx, const float* g1, const float* g2, const float* ref,
                       int64_t n) override;
  Status select(float* out, const float* cond, const float* a, const float* b, int64_t n) override;
  Status cast(void* out, DType out_dtype, const void* in, DType in_dtype, int64_t n) override;
  Status fill(void* out, DType dtype, double value, int64_t n) override;

  Status reduce(float* out, const float* in, ReduceOp op, const ReduceParams& p) override;
  Status argmax(int32_t* out, const float* in, const ReduceParams& p) override;
  Status one_hot(float* out, const int32_t* indices, int64_t n, int64_t depth, float on_value,
                 float off_value) override;

  Status transpose(void* out, const void* in, const TransposeParams& p) override;
  Status copy_slab(void* out, const void* in, int64_t outer, int64_t in_axis, int64_t out_axis,
                   int64_t offset, int64_t inner, bool into_out) override;
  Status slice(void* out, const void* in, const Shape& in_shape, const Shape& begin,
               const Shape& size) override;
  Status pad(float* out, const float* in, const Shape& in_shape, const Shape& before,
             const Shape& after, float value) override;

  Status softmax(float* y, const float* x, int64_t rows, int64_t cols, bool log) override;
  Status softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols,
                          bool log) override;
  Status sparse_softmax_cross_entropy(float* loss, float* dlogits, const float* logits,
                                      const int32_t* labels, int64_t rows, int64_t cols) override;

  Status resize_bilinear(float* y, const float* x, const ResizeParams& p) override;
  Status resize_bilinear_backward(float* dx, const float* dy, const ResizeParams& p) override;
  Status projective_transform(float* out, const float* images, const float* transforms,
                              const ProjectiveParams& p) override;

  Status lrn_forward(float* y, const float* x, const LRNParams& p) override;
  Status lrn_backward(float* dx, const float* dy, const float* x, const float* y,
                      const LRNParams& p) override;

  Status dropout_mask(float* mask, int64_t n, float rate, uint64_t seed) override;
  Status random(float* out, int64_t n, bool normal, float a, float b, uint64_t seed) override;

  Status sgd_update(float* w, float* velocity, const float* g, int64_t n,
                    const OptimizerParams& p) override;
  Status adam_update(float* w, float* m, float* v, const float* g, int64_t n,
                     const OptimizerParams& p, const float* step, bool nadam) override;
  Status moving_average(float* v, const float* x, int64_t n, float momentum, float rest) override;
  Status rmsprop_update(float* w, float* ms, float* mom, float* mg, const float* g, int64_t n,
                        const OptimizerParams& p) override;

 private:
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* cublas_workspace_ = nullptr;
  // [flag, label, row, cols] in pinned host memory mapped into the device (Note [device-side errors]).
  int* bad_label_host_ = nullptr;
  int* bad_label_dev_ = nullptr;
  cuda::CachingAllocator alloc_;
  std::string context_error_;  // set by check_context when the context is lost
  // Timing events (timer_mark), created on first use and reused after timer_reset().
  std::vector<cudaEvent_t> timer_events_;
  size_t timer_used_ = 0;
  std::unique_ptr<cuda::ConvCache, cuda::ConvCacheDeleter> conv_cache_;
  std::unique_ptr<ReducedPrecisionOps> reduced_;  // made on first use (half_backend.cc)
};

}  // namespace cn
