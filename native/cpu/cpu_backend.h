// CpuBackend: the oneDNN-based implementation of Backend. The methods are defined
// across one file per op family in this directory (conv.cc, pool.cc, batchnorm.cc,
// matmul.cc, elementwise.cc, binary.cc, cast_fill.cc, reduce.cc, movement.cc, softmax.cc,
// image.cc, lrn.cc, random.cc, optimizer.cc, memory.cc); oneDNN primitives are cached by shape and parameters
// (primitive_cache.h).
#pragma once
#include "../core/backend.h"

namespace cn {

Backend* cpu_backend();  // process-wide instance

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  // bf16 / fp16 primitives (bf16_backend.h).
  ReducedPrecisionOps* reduced_precision() override;

  Status allocate(void** ptr, size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  Status upload(void* dst, const void* src_host, size_t bytes) override;
  Status download(void* dst_host, const void* src, size_t bytes) override;
  Status copy(void* dst, const void* src, size_t bytes) override;
  Status synchronize() override;
  Status timer_mark(int64_t* mark) override;
  Status timer_elapsed_ms(int64_t from, int64_t to, double* ms) override;
  void timer_reset() override;

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
};

}  // namespace cn
