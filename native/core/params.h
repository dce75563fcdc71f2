// Op parameter structs shared by both backends. Each struct is built by a make_*
// function that validates the sizes and computes the output extents (out_h/out_w),
// so the cpu and cuda backends agree on shapes by construction.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "shape.h"
#include "status.h"

namespace cn {

enum class Padding { kValid, kSame, kExplicit };

// Convolution over NHWC input with an HWIO filter (or HWCM for depthwise, where
// out_c = in_c * depth_multiplier).
struct Conv2DParams {
  int64_t n = 0, in_h = 0, in_w = 0, in_c = 0;
  int64_t k_h = 0, k_w = 0, out_c = 0;
  int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;
  bool depthwise = false;
  int64_t depth_multiplier = 1;
  bool has_bias = false;
  bool relu = false;  // fused ReLU after bias (forward only)
  Shape input_shape() const { return {n, in_h, in_w, in_c}; }
  Shape output_shape() const { return {n, out_h, out_w, out_c}; }
  Shape filter_shape() const {
    return depthwise ? Shape{k_h, k_w, in_c, depth_multiplier} : Shape{k_h, k_w, in_c, out_c};
  }
  double flops() const {  // multiply-adds counted as 2
    double per_out = 2.0 * k_h * k_w * (depthwise ? 1 : in_c);
    return per_out * n * out_h * out_w * out_c;
  }
};

// x: NHWC input shape, filter: HWIO (or HWCM), explicit_pads used when padding == kExplicit
// as {top, bottom, left, right}.
Status make_conv2d_params(Conv2DParams* p, const Shape& x, const Shape& filter, int64_t stride_h,
                          int64_t stride_w, int64_t dil_h, int64_t dil_w, Padding padding,
                          const std::vector<int64_t>& explicit_pads, bool depthwise);

// Note [padding limit] (params.cc): at most this much padding per side of a convolution.
constexpr int64_t kMaxConvPad = 65536;

// The one validator of a Conv2DParams: every backend method calls it first, so the cpu and
// cuda backends accept exactly the structs make_conv2d_params produces (cuda adds only
// cuDNN's own int32 limits).
Status validate_conv2d_params(const char* op, const Conv2DParams& p);
// "x=[..] filter=[..] (HWIO) y=[..] strides=[..] dilations=[..] pads=[..]" for messages.
std::string conv2d_shapes(const Conv2DParams& p);

enum class PoolKind { kMax, kAvg };

struct Pool2DParams {
  PoolKind kind = PoolKind::kMax;
  int64_t n = 0, in_h = 0, in_w = 0, c = 0;
  int64_t k_h = 1, k_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;
  Shape input_shape() const { return {n, in_h, in_w, c}; }
  Shape output_shape() const { return {n, out_h, out_w, c}; }
};

Status make_pool2d_params(Pool2DParams* p, PoolKind kind, const Shape& x, int64_t k_h, int64_t k_w,
                          int64_t stride_h, int64_t stride_w, Padding padding);

// The one validator of a Pool2DParams, called by both backends (see validate_conv2d_params).
Status validate_pool2d_params(const char* op, const Pool2DParams& p);
std::string pool2d_shapes(const Pool2DParams& p);

// Batch normalization over the last axis: x viewed as [rows, c].
struct BatchNormParams {
  int64_t rows = 0, c = 0;
  float epsilon = 1e-3f;
  // Note [batch norm + relu]: y = relu(batch norm(x)) in the training and inference forward,
  // and the backward (of the training form) takes the gradient of that y (the relu mask is recomputed from x, mean,
  // variance, gamma and beta, so no pre-relu tensor is kept). Set by the plan fusion pass.
  // Note [batch norm + add + relu]: the forwards may also take a residual r of x's shape:
  // y = relu(batch norm(x) + r), a ResNet block's join (or batch norm(x) + r without relu,
  // Xception's), so the batch norm's own output is never written and read back. The
  // backward stays the unfused one (the join's gradient, AddReluGrad, reads y; a plain add
  // passes its gradient on), so this needs no backward form.
  bool relu = false;
};

// C[batch, m, n] = op(A)[batch, m, k] * op(B)[batch, k, n] (+ bias[n]).
// A batch of 1 on either side is broadcast.
struct MatMulParams {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool a_batched = false, b_batched = false;
  bool trans_a = false, trans_b = false;
  bool has_bias = false;
  bool relu = false;
};
// Fills p from a's and b's shapes (rank 2, or 3 with a batch axis) and the transposes; the
// one MatMul shape check, shared by the float32 and the reduced-precision kernels.
Status make_matmul_params(MatMulParams* p, const Shape& a, const Shape& b, bool trans_a, bool trans_b);
// MatMul's output shape: [batch, m, n] when either input is batched, else [m, n].
Shape matmul_output_shape(const MatMulParams& p);

// Elementwise broadcasting: out has rank <= kMaxRank; a_strides/b_strides are element
// strides into a and b for each output axis (0 where broadcast).
constexpr int kMaxRank = 8;
struct BroadcastParams {
  int rank = 0;
  int64_t out_shape[kMaxRank] = {0};
  int64_t a_strides[kMaxRank] = {0};
  int64_t b_strides[kMaxRank] = {0};
  int64_t size = 0;
  bool same_shape = false;  // fast path: a, b and out all have `size` elements
  bool a_scalar = false, b_scalar = false;
};

Status make_broadcast_params(BroadcastParams* p, const Shape& a, const Shape& b);

// Reduction over a contiguous group of axes: input viewed as [outer, reduce, inner].
struct ReduceParams {
  int64_t outer = 1, reduce = 1, inner = 1;
};

struct TransposeParams {
  int rank = 0;
  int64_t in_shape[kMaxRank] = {0};
  int perm[kMaxRank] = {0};
  int64_t size = 0;
};

// Bilinear resize, TensorFlow semantics (half_pixel_centers or align_corners).
struct ResizeParams {
  int64_t n = 0, in_h = 0, in_w = 0, c = 0, out_h = 0, out_w = 0;
  bool align_corners = false, half_pixel_centers = true;
};

// Local response normalization across channels (tf.nn.local_response_normalization):
// x viewed as [rows, c] (NHWC with rows = n*h*w), y = x / (bias + alpha * sqr_sum)^beta
// where sqr_sum sums x^2 over channels [ch - depth_radius, ch + depth_radius] inside [0, c).
struct LRNParams {
  int64_t rows = 0, c = 0;
  int64_t depth_radius = 5;
  float bias = 1.0f, alpha = 1.0f, beta = 0.5f;
};

}  // namespace cn
