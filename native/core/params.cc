// Validation and output-extent arithmetic for the op parameter structs.
#include "params.h"

#include <algorithm>

namespace cn {

namespace {

// Note [SAME padding]: TensorFlow pads so that out = ceil(in / stride); when the total
// padding is odd the extra row/column goes to the bottom/right. Keras and tfjs share it.
void same_pads(int64_t in, int64_t k_eff, int64_t stride, int64_t* out, int64_t* before,
               int64_t* after) {
  *out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((*out - 1) * stride + k_eff - in, 0);
  *before = total / 2;
  *after = total - *before;
}

}  // namespace

Status make_conv2d_params(Conv2DParams* p, const Shape& x, const Shape& f, int64_t stride_h,
                          int64_t stride_w, int64_t dil_h, int64_t dil_w, Padding padding,
                          const std::vector<int64_t>& pads, bool depthwise) {
  if (x.size() != 4) return invalid_argument("conv2d: expected x of rank 4 (NHWC) but received shape " + shape_str(x));
  if (f.size() != 4) return invalid_argument("conv2d: expected filter of rank 4 (HWIO) but received shape " + shape_str(f));
  if (f[2] != x[3])
    return invalid_argument("conv2d: expected filter in-channels " + std::to_string(x[3]) +
                            " (x's last axis) but received filter shape " + shape_str(f));
  if (stride_h < 1 || stride_w < 1 || dil_h < 1 || dil_w < 1)
    return invalid_argument("conv2d: strides and dilations must be >= 1");
  Conv2DParams q;
  q.n = x[0]; q.in_h = x[1]; q.in_w = x[2]; q.in_c = x[3];
  q.k_h = f[0]; q.k_w = f[1];
  q.depthwise = depthwise;
  q.depth_multiplier = depthwise ? f[3] : 1;
  q.out_c = depthwise ? x[3] * f[3] : f[3];
  q.stride_h = stride_h; q.stride_w = stride_w; q.dil_h = dil_h; q.dil_w = dil_w;
  int64_t keh = (q.k_h - 1) * dil_h + 1, kew = (q.k_w - 1) * dil_w + 1;
  if (padding == Padding::kSame) {
    same_pads(q.in_h, keh, stride_h, &q.out_h, &q.pad_top, &q.pad_bottom);
    same_pads(q.in_w, kew, stride_w, &q.out_w, &q.pad_left, &q.pad_right);
  } else {
    if (padding == Padding::kExplicit) {
      if (pads.size() != 4) return invalid_argument("conv2d: explicit padding needs 4 values");
      q.pad_top = pads[0]; q.pad_bottom = pads[1]; q.pad_left = pads[2]; q.pad_right = pads[3];
    }
    int64_t hp = q.in_h + q.pad_top + q.pad_bottom, wp = q.in_w + q.pad_left + q.pad_right;
    if (hp < keh || wp < kew)
      return invalid_argument("conv2d: filter " + shape_str(f) + " is larger than the padded input " + shape_str(x));
    q.out_h = (hp - keh) / stride_h + 1;
    q.out_w = (wp - kew) / stride_w + 1;
  }
  if (q.out_h <= 0 || q.out_w <= 0) return invalid_argument("conv2d: empty output for input " + shape_str(x));
  *p = q;
  return Status::ok();
}

Status make_pool2d_params(Pool2DParams* p, PoolKind kind, const Shape& x, int64_t k_h, int64_t k_w,
                          int64_t stride_h, int64_t stride_w, Padding padding) {
  if (x.size() != 4) return invalid_argument("pool2d: expected x of rank 4 (NHWC) but received shape " + shape_str(x));
  if (k_h < 1 || k_w < 1 || stride_h < 1 || stride_w < 1)
    return invalid_argument("pool2d: pool size and strides must be >= 1");
  Pool2DParams q;
  q.kind = kind;
  q.n = x[0]; q.in_h = x[1]; q.in_w = x[2]; q.c = x[3];
  q.k_h = k_h; q.k_w = k_w; q.stride_h = stride_h; q.stride_w = stride_w;
  if (padding == Padding::kSame) {
    same_pads(q.in_h, k_h, stride_h, &q.out_h, &q.pad_top, &q.pad_bottom);
    same_pads(q.in_w, k_w, stride_w, &q.out_w, &q.pad_left, &q.pad_right);
  } else {
    if (q.in_h < k_h || q.in_w < k_w)
      return invalid_argument("pool2d: pool window larger than input " + shape_str(x));
    q.out_h = (q.in_h - k_h) / stride_h + 1;
    q.out_w = (q.in_w - k_w) / stride_w + 1;
  }
  *p = q;
  return Status::ok();
}

Status make_broadcast_params(BroadcastParams* p, const Shape& a, const Shape& b) {
  BroadcastParams q;
  int rank = (int)std::max(a.size(), b.size());
  if (rank > kMaxRank) return invalid_argument("broadcast: rank above 8 is not supported");
  q.rank = rank;
  q.same_shape = (a == b);
  q.a_scalar = num_elements(a) == 1;
  q.b_scalar = num_elements(b) == 1;
  int64_t sa = 1, sb = 1;
  for (int i = rank - 1; i >= 0; --i) {
    int ia = i - (rank - (int)a.size()), ib = i - (rank - (int)b.size());
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return invalid_argument("broadcast: shapes " + shape_str(a) + " and " + shape_str(b) + " are not compatible");
    q.out_shape[i] = std::max(da, db);
    if (da == 0 || db == 0) q.out_shape[i] = 0;
    q.a_strides[i] = da == 1 ? 0 : sa;
    q.b_strides[i] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  q.size = 1;
  for (int i = 0; i < rank; ++i) q.size *= q.out_shape[i];
  *p = q;
  return Status::ok();
}

}  // namespace cn
