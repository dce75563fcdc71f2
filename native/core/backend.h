// Backend: the native interface both backends (cpu on oneDNN, cuda on cuDNN/cuBLAS)
// implement in full. One method per primitive; outputs first, sizes (param structs) last.
// All pointers are backend memory (host memory for cpu, device memory for cuda).
// A missing override is a compile error: every method is pure virtual.
#pragma once
#include <atomic>
#include <mutex>
#include <cstddef>
#include <cstdint>
#include <string>

#include "params.h"
#include "projective.h"
#include "shape.h"
#include "status.h"

namespace cn {

enum class UnaryOp : int {
  kRelu, kSigmoid, kTanh, kExp, kLog, kNeg, kSqrt, kRsqrt, kSquare, kAbs, kReciprocal, kSign,
  kFloor, kCeil, kRound, kLog1p, kSoftplus, kElu, kSelu, kRelu6, kStep, kSin, kCos
};
// Gradients take (dy, ref) where ref is the forward output y for relu/sigmoid/tanh/elu/selu
// and relu6, and the forward input x for the rest.
enum class UnaryGradOp : int { kRelu, kSigmoid, kTanh, kElu, kSelu, kRelu6 };

enum class BinaryOp : int {
  kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kPow, kSquaredDifference,
  kEqual, kNotEqual, kGreater, kGreaterEqual, kLess, kLessEqual, kFloorDiv, kMod
};  // comparisons produce 1/0 in the output dtype

enum class ReduceOp : int { kSum, kMean, kMax, kMin, kProd };

struct OptimizerParams {
  float lr = 0.01f, momentum = 0.0f, beta1 = 0.9f, beta2 = 0.999f, rho = 0.9f, epsilon = 1e-7f;
  bool nesterov = false;
  bool centered = false;
};

class ReducedPrecisionOps;  // reduced_precision.h

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // ---- bfloat16 / float16 primitives, or null where the backend has none yet (every
  // kernel then refuses those dtypes with ERR_NOT_SUPPORTED; native/ops/typed_kernels.h).
  // Note [optional, not pure]: the only method with a default, so a backend grows reduced
  // precision without a stub for each primitive.
  virtual ReducedPrecisionOps* reduced_precision() { return nullptr; }

  // ---- memory
  virtual Status allocate(void** ptr, size_t bytes) = 0;
  virtual void release(void* ptr, size_t bytes) = 0;
  virtual Status upload(void* dst, const void* src_host, size_t bytes) = 0;
  virtual Status download(void* dst_host, const void* src, size_t bytes) = 0;
  virtual Status copy(void* dst, const void* src, size_t bytes) = 0;
  virtual Status synchronize() = 0;

  // ---- convolution (NHWC, HWIO filter; depthwise uses HWCM and p.depthwise)
  virtual Status conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                                const Conv2DParams& p) = 0;
  virtual Status conv2d_backward_data(float* dx, const float* dy, const float* w,
                                      const Conv2DParams& p) = 0;
  // Also writes the bias gradient (sum of dy over N, H, W) when dbias is non-null.
  virtual Status conv2d_backward_filter(float* dw, float* dbias, const float* x, const float* dy,
                                        const Conv2DParams& p) = 0;

  // ---- pooling (max: backward recomputes the argmax from x)
  virtual Status pool2d_forward(float* y, const float* x, const Pool2DParams& p) = 0;
  virtual Status pool2d_backward(float* dx, const float* dy, const float* x,
                                 const Pool2DParams& p) = 0;
  // Max pooling's second derivative (MaxPoolGradGrad): y[o] = src at the first maximum of x
  // in window o (the adjoint of max pooling's backward in dy); src has x's shape.
  virtual Status max_pool_gather(float* y, const float* src, const float* x,
                                 const Pool2DParams& p) = 0;

  // ---- batch normalization over the last axis
  // Training: writes y and the batch mean and biased variance. residual (may be null) is
  // added to the normalized x, and then the ReLU applied when p.relu (Note [batch norm +
  // add + relu] in core/params.h).
  virtual Status batchnorm_forward_training(float* y, float* batch_mean, float* batch_var,
                                            const float* x, const float* gamma, const float* beta,
                                            const float* residual, const BatchNormParams& p) = 0;
  // Inference: y from the given statistics (+ residual, then the ReLU, likewise).
  virtual Status batchnorm_forward_inference(float* y, const float* x, const float* gamma,
                                             const float* beta, const float* mean,
                                             const float* var, const float* residual,
                                             const BatchNormParams& p) = 0;
  // Backward through the training forward (batch statistics); with p.relu, dy is the
  // gradient of relu(y) and beta (may be null: 0) is needed to recompute the relu mask.
  virtual Status batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,
                                    const float* x, const float* gamma, const float* beta,
                                    const float* batch_mean, const float* batch_var,
                                    const BatchNormParams& p) = 0;

  // ---- dense algebra
  virtual Status matmul(float* c, const float* a, const float* b, const float* bias,
                        const MatMulParams& p) = 0;

  // ---- elementwise
  virtual Status unary(float* y, const float* x, int64_t n, UnaryOp op, float alpha) = 0;
  virtual Status unary_grad(float* dx, const float* dy, const float* ref, int64_t n,
                            UnaryGradOp op, float alpha) = 0;
  // dtype float32 or int32 for a, b and out alike.
  virtual Status binary(void* out, const void* a, const void* b, DType dtype, BinaryOp op,
                        const BroadcastParams& p) = 0;
  // The residual join of a ResNet block and its ReLU, fused by the plan (lib/plan_fusion.ts):
  // out = relu(a + b), and dx = g1 + g2 where ref > 0, else 0 (the ReLU's gradient of a sum
  // of two gradients). Same sizes, no broadcasting; results equal Add then Relu / ReluGrad.
  virtual Status add_relu(float* out, const float* a, const float* b, int64_t n) = 0;
  virtual Status add_relu_grad(float* dx, const float* g1, const float* g2, const float* ref,
                               int64_t n) = 0;
  // out = where(cond != 0, a, b), all of out's size (no broadcasting).
  virtual Status select(float* out, const float* cond, const float* a, const float* b,
                        int64_t n) = 0;
  virtual Status cast(void* out, DType out_dtype, const void* in, DType in_dtype, int64_t n) = 0;
  virtual Status fill(void* out, DType dtype, double value, int64_t n) = 0;

  // ---- reductions and index ops on [outer, reduce, inner] views
  virtual Status reduce(float* out, const float* in, ReduceOp op, const ReduceParams& p) = 0;
  virtual Status argmax(int32_t* out, const float* in, const ReduceParams& p) = 0;
  virtual Status one_hot(float* out, const int32_t* indices, int64_t n, int64_t depth,
                         float on_value, float off_value) = 0;

  // ---- data movement (element size 4 for every dtype used here)
  virtual Status transpose(void* out, const void* in, const TransposeParams& p) = 0;
  // Copies in[outer, in_axis, inner] into out[outer, out_axis, inner] at offset along the axis.
  virtual Status copy_slab(void* out, const void* in, int64_t outer, int64_t in_axis,
                           int64_t out_axis, int64_t offset, int64_t inner, bool into_out) = 0;
  // Strided slice: out[i] = in[begin + i] per axis, shapes of rank <= kMaxRank.
  virtual Status slice(void* out, const void* in, const Shape& in_shape, const Shape& begin,
                       const Shape& size) = 0;
  // Zero padding (pad_before/pad_after per axis); pad_backward takes the interior.
  virtual Status pad(float* out, const float* in, const Shape& in_shape,
                     const Shape& before, const Shape& after, float value) = 0;

  // ---- softmax family over the last axis of [rows, cols]
  virtual Status softmax(float* y, const float* x, int64_t rows, int64_t cols, bool log) = 0;
  virtual Status softmax_backward(float* dx, const float* dy, const float* y, int64_t rows,
                                  int64_t cols, bool log) = 0;
  // loss[r] = -log softmax(logits)[r, labels[r]]; dlogits = softmax - onehot (unscaled).
  virtual Status sparse_softmax_cross_entropy(float* loss, float* dlogits, const float* logits,
                                              const int32_t* labels, int64_t rows,
                                              int64_t cols) = 0;

  // ---- images
  virtual Status resize_bilinear(float* y, const float* x, const ResizeParams& p) = 0;
  virtual Status resize_bilinear_backward(float* dx, const float* dy, const ResizeParams& p) = 0;
  // out [n, out_h, out_w, c] = images [n, h, w, c] through transforms ([n or 1, 8]); see projective.h.
  virtual Status projective_transform(float* out, const float* images, const float* transforms,
                                      const ProjectiveParams& p) = 0;

  // ---- local response normalization across channels (LRNParams; TensorFlow's LRN / LRNGrad)
  virtual Status lrn_forward(float* y, const float* x, const LRNParams& p) = 0;
  // y is the forward output for x.
  virtual Status lrn_backward(float* dx, const float* dy, const float* x, const float* y,
                              const LRNParams& p) = 0;

  // ---- randomness: mask[i] = (u(seed, i) >= rate) / (1 - rate), u uniform in [0, 1)
  virtual Status dropout_mask(float* mask, int64_t n, float rate, uint64_t seed) = 0;
  // Uniform [lo, hi) or normal(mean, std) with a counter-based generator.
  virtual Status random(float* out, int64_t n, bool normal, float a, float b, uint64_t seed) = 0;

  // ---- optimizer updates, in place on w and the slots. step points to a float32 scalar in
  // backend memory holding the 1-based step number (already incremented for this step).
  virtual Status sgd_update(float* w, float* velocity, const float* g, int64_t n,
                            const OptimizerParams& p) = 0;
  virtual Status adam_update(float* w, float* m, float* v, const float* g, int64_t n,
                             const OptimizerParams& p, const float* step, bool nadam) = 0;
  virtual Status rmsprop_update(float* w, float* ms, float* mom, float* mg, const float* g,
                                int64_t n, const OptimizerParams& p) = 0;
  // Moving average in place (batch norm's moving statistics): v = v * momentum + x * rest,
  // each product rounded to float32 before the sum, as the unfused mul, mul, add.
  virtual Status moving_average(float* v, const float* x, int64_t n, float momentum,
                                float rest) = 0;

  // ---- timing (Note [kernel profiling] in native/runtime/profiler.h)
  // timer_mark queues a timestamp behind the work queued so far and returns its id in
  // *mark. After synchronize(), timer_elapsed_ms gives the time between two marks on the
  // backend's own clock: the device's for an asynchronous backend, so that a kernel's time
  // is the device's work, not its launch. timer_reset() forgets every mark (ids restart).
  virtual Status timer_mark(int64_t* mark) = 0;
  virtual Status timer_elapsed_ms(int64_t from, int64_t to, double* ms) = 0;
  virtual void timer_reset() = 0;

  // Note [serialized backends]: a backend that is not safe to call from several threads at
  // once (cuda: one stream, one cuDNN handle) sets serialize; the binding then holds
  // exec_mutex around each eager kernel and each plan run.
  bool serialize = false;
  std::recursive_mutex exec_mutex;

  // ---- accounting
  std::atomic<int64_t> live_buffers{0};
  std::atomic<int64_t> live_bytes{0};
  std::atomic<int64_t> peak_bytes{0};
};

// Holds b's exec_mutex when b must be serialized (see Note [serialized backends]).
inline std::unique_lock<std::recursive_mutex> serial_lock(Backend* b) {
  return b && b->serialize ? std::unique_lock<std::recursive_mutex>(b->exec_mutex)
                           : std::unique_lock<std::recursive_mutex>();
}

}  // namespace cn
