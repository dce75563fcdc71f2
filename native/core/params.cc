// Validation and output-extent arithmetic for the op parameter structs.
#include "params.h"

#include <algorithm>

namespace cn {

namespace {

// Note [SAME padding]: TensorFlow pads so that out = ceil(in / stride); when the total
// padding is odd the extra row/column goes to the bottom/right. Keras and tfjs share it.
// Overflow-checked: k_eff and stride come from user attributes (Note [integer attributes]).
bool same_pads(int64_t in, int64_t k_eff, int64_t stride, int64_t* out, int64_t* before,
               int64_t* after) {
  *out = in / stride + (in % stride != 0);
  int64_t span = 0, total = 0;
  if (!checked_mul(*out > 0 ? *out - 1 : 0, stride, &span) || !checked_add(span, k_eff, &total)) return false;
  total = std::max<int64_t>(total - in, 0);
  *before = total / 2;
  *after = total - *before;
  return true;
}

// Note [pooling window trimming]: window positions that lie outside the input for every
// output position change nothing (max pooling skips padding, average pooling excludes it
// from the count), so they are cut off before any backend sees the window: when even the
// last window starts t positions before the input, every window loses its first t
// positions, and when even the first window ends e positions past the input, every window
// loses its last e. The output extent and each window's in-bounds part are unchanged, and
// the work per window is bounded by the input instead of the requested window: a SAME
// window of 2^31 on a 4x4 image pools over 4x4 (TensorFlow gives the same result; oneDNN,
// handed the raw window, loops over all of it and hangs).
void trim_window(int64_t in, int64_t out, int64_t stride, int64_t* k, int64_t* before, int64_t* after) {
  int64_t t = *before - (out - 1) * stride;  // the last window's start is -t
  if (t > 0) {
    *k -= t;
    *before -= t;
  }
  int64_t e = (*k - *before) - in;  // the first window's end is in + e
  if (e > 0) {
    *k -= e;
    *after -= e;
  }
}

std::string window_str(int64_t h, int64_t w) { return "[" + std::to_string(h) + "," + std::to_string(w) + "]"; }

}  // namespace

std::string conv2d_shapes(const Conv2DParams& p) {
  return std::string(p.depthwise ? "depthwise " : "") + "x=" + shape_str(p.input_shape()) +
         " filter=" + shape_str(p.filter_shape()) + (p.depthwise ? " (HWCM)" : " (HWIO)") +
         " y=" + shape_str(p.output_shape()) + " strides=" + window_str(p.stride_h, p.stride_w) +
         " dilations=" + window_str(p.dil_h, p.dil_w) + " pads=[" + std::to_string(p.pad_top) +
         "," + std::to_string(p.pad_bottom) + "," + std::to_string(p.pad_left) + "," +
         std::to_string(p.pad_right) + "]";
}

std::string pool2d_shapes(const Pool2DParams& p) {
  return std::string(p.kind == PoolKind::kMax ? "max" : "avg") + " x=" + shape_str(p.input_shape()) +
         " y=" + shape_str(p.output_shape()) + " window=" + window_str(p.k_h, p.k_w) +
         " strides=" + window_str(p.stride_h, p.stride_w) + " pads=[" + std::to_string(p.pad_top) +
         "," + std::to_string(p.pad_bottom) + "," + std::to_string(p.pad_left) + "," +
         std::to_string(p.pad_right) + "]";
}

Status make_conv2d_params(Conv2DParams* p, const Shape& x, const Shape& f, int64_t stride_h,
                          int64_t stride_w, int64_t dil_h, int64_t dil_w, Padding padding,
                          const std::vector<int64_t>& pads, bool depthwise) {
  const char* op = depthwise ? "depthwiseConv2d" : "conv2d";
  auto fail = [&](const std::string& m) { return invalid_argument(std::string(op) + ": " + m); };
  if (x.size() != 4) return fail("expected x of rank 4 (NHWC) but received shape " + shape_str(x));
  if (f.size() != 4)
    return fail(std::string("expected filter of rank 4 (") + (depthwise ? "HWCM" : "HWIO") + ") but received shape " + shape_str(f));
  int64_t count = 0;
  CN_RETURN_IF_ERROR(checked_num_elements(x, std::string(op) + ": x shape", &count));
  CN_RETURN_IF_ERROR(checked_num_elements(f, std::string(op) + ": filter shape", &count));
  if (f[2] != x[3])
    return fail("expected filter in-channels " + std::to_string(x[3]) + " (x's last axis) but received filter shape " + shape_str(f));
  // Note [empty convolutions]: as TensorFlow, a batch of 0 or 0 output channels gives an
  // empty output, but the filter's window and in-channels must be positive ("filter depth
  // must be strictly positive"), and so must the input's height and width.
  if (x[3] < 1) return fail("expected x with at least 1 channel but received shape " + shape_str(x));
  if (f[0] < 1 || f[1] < 1) return fail("expected a filter window of at least 1x1 but received filter shape " + shape_str(f));
  if (x[1] < 1 || x[2] < 1) return fail("expected x with height and width >= 1 but received shape " + shape_str(x));
  if (stride_h < 1 || stride_w < 1) return fail("expected strides >= 1 but received " + window_str(stride_h, stride_w));
  if (dil_h < 1 || dil_w < 1) return fail("expected dilations >= 1 but received " + window_str(dil_h, dil_w));
  Conv2DParams q;
  q.n = x[0]; q.in_h = x[1]; q.in_w = x[2]; q.in_c = x[3];
  q.k_h = f[0]; q.k_w = f[1];
  q.depthwise = depthwise;
  q.depth_multiplier = depthwise ? f[3] : 1;
  if (depthwise) {
    if (!checked_mul(x[3], f[3], &q.out_c) || q.out_c > kMaxElements)
      return fail("channels x depth multiplier overflow for filter shape " + shape_str(f));
  } else {
    q.out_c = f[3];
  }
  q.stride_h = stride_h; q.stride_w = stride_w; q.dil_h = dil_h; q.dil_w = dil_w;
  int64_t keh = 0, kew = 0;
  if (!checked_mul(q.k_h - 1, dil_h, &keh) || !checked_mul(q.k_w - 1, dil_w, &kew) || ++keh > kMaxElements ||
      ++kew > kMaxElements)
    return fail("dilated filter window " + window_str(keh, kew) + " is above the limit of 2^53-1 (dilations " +
                window_str(dil_h, dil_w) + ", filter shape " + shape_str(f) + ")");
  if (padding == Padding::kSame) {
    if (!same_pads(q.in_h, keh, stride_h, &q.out_h, &q.pad_top, &q.pad_bottom) ||
        !same_pads(q.in_w, kew, stride_w, &q.out_w, &q.pad_left, &q.pad_right))
      return fail("SAME padding overflows for x " + shape_str(x) + ", strides " + window_str(stride_h, stride_w));
  } else {
    if (padding == Padding::kExplicit) {
      if (pads.size() != 4) return fail("expected 4 explicit pads [top, bottom, left, right] but received " + shape_str(pads));
      for (int64_t v : pads)
        if (v < 0) return fail("expected explicit pads >= 0 but received " + shape_str(pads));
      q.pad_top = pads[0]; q.pad_bottom = pads[1]; q.pad_left = pads[2]; q.pad_right = pads[3];
    }
  }
  // Note [padding limit]: a backend's work grows with the padding (oneDNN walks it), so a
  // dilation of 1e9 on a 6-pixel row, which pads by 1e9 on each side, would hang the
  // calling thread. Padding above kMaxConvPad per side is refused before any work starts.
  for (int64_t v : {q.pad_top, q.pad_bottom, q.pad_left, q.pad_right})
    if (v > kMaxConvPad)
      return fail("expected padding of at most " + std::to_string(kMaxConvPad) +
                  " per side but the dilated filter window " + window_str(keh, kew) + " (filter shape " + shape_str(f) +
                  ", dilations " + window_str(dil_h, dil_w) + ") pads x " + shape_str(x) + " by [" +
                  std::to_string(q.pad_top) + "," + std::to_string(q.pad_bottom) + "," + std::to_string(q.pad_left) +
                  "," + std::to_string(q.pad_right) + "]");
  if (padding != Padding::kSame) {
    int64_t hp = q.in_h + q.pad_top + q.pad_bottom, wp = q.in_w + q.pad_left + q.pad_right;
    if (hp < keh || wp < kew)
      return fail("expected the dilated filter window " + window_str(keh, kew) + " to fit in the padded input " +
                  window_str(hp, wp) + " but received x " + shape_str(x) + ", filter " + shape_str(f));
    q.out_h = (hp - keh) / stride_h + 1;
    q.out_w = (wp - kew) / stride_w + 1;
  }
  CN_RETURN_IF_ERROR(checked_num_elements(q.output_shape(), std::string(op) + ": output shape", &count));
  CN_RETURN_IF_ERROR(validate_conv2d_params(op, q));
  *p = q;
  return Status::ok();
}

Status validate_conv2d_params(const char* op, const Conv2DParams& p) {
  bool ok = p.n >= 0 && p.in_h > 0 && p.in_w > 0 && p.in_c > 0 && p.k_h > 0 && p.k_w > 0 &&
            p.out_c >= 0 && p.stride_h > 0 && p.stride_w > 0 && p.dil_h > 0 && p.dil_w > 0 &&
            p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0 &&
            p.pad_top <= kMaxConvPad && p.pad_bottom <= kMaxConvPad && p.pad_left <= kMaxConvPad &&
            p.pad_right <= kMaxConvPad && p.out_h > 0 && p.out_w > 0 && p.depth_multiplier >= 0 &&
            (!p.depthwise || p.out_c == p.in_c * p.depth_multiplier);
  if (ok) {
    int64_t keh = 0, kew = 0;
    ok = checked_mul(p.k_h - 1, p.dil_h, &keh) && checked_mul(p.k_w - 1, p.dil_w, &kew);
    int64_t hp = p.in_h + p.pad_top + p.pad_bottom, wp = p.in_w + p.pad_left + p.pad_right;
    ok = ok && hp > keh && wp > kew && p.out_h == (hp - keh - 1) / p.stride_h + 1 &&
         p.out_w == (wp - kew - 1) / p.stride_w + 1;
  }
  if (!ok) return invalid_argument(std::string(op) + ": inconsistent parameters " + conv2d_shapes(p));
  return Status::ok();
}

Status make_pool2d_params(Pool2DParams* p, PoolKind kind, const Shape& x, int64_t k_h, int64_t k_w,
                          int64_t stride_h, int64_t stride_w, Padding padding) {
  const char* op = kind == PoolKind::kMax ? "maxPool" : "avgPool";
  auto fail = [&](const std::string& m) { return invalid_argument(std::string(op) + ": " + m); };
  if (x.size() != 4) return fail("expected x of rank 4 (NHWC) but received shape " + shape_str(x));
  int64_t count = 0;
  CN_RETURN_IF_ERROR(checked_num_elements(x, std::string(op) + ": x shape", &count));
  if (k_h < 1 || k_w < 1) return fail("expected poolSize >= 1 but received " + window_str(k_h, k_w));
  if (stride_h < 1 || stride_w < 1) return fail("expected strides >= 1 but received " + window_str(stride_h, stride_w));
  if (x[1] < 1 || x[2] < 1) return fail("expected x with height and width >= 1 but received shape " + shape_str(x));
  Pool2DParams q;
  q.kind = kind;
  q.n = x[0]; q.in_h = x[1]; q.in_w = x[2]; q.c = x[3];
  q.k_h = k_h; q.k_w = k_w; q.stride_h = stride_h; q.stride_w = stride_w;
  if (padding == Padding::kSame) {
    if (!same_pads(q.in_h, k_h, stride_h, &q.out_h, &q.pad_top, &q.pad_bottom) ||
        !same_pads(q.in_w, k_w, stride_w, &q.out_w, &q.pad_left, &q.pad_right))
      return fail("SAME padding overflows for x " + shape_str(x) + ", poolSize " + window_str(k_h, k_w) +
                  ", strides " + window_str(stride_h, stride_w));
    trim_window(q.in_h, q.out_h, stride_h, &q.k_h, &q.pad_top, &q.pad_bottom);
    trim_window(q.in_w, q.out_w, stride_w, &q.k_w, &q.pad_left, &q.pad_right);
  } else {
    if (q.in_h < k_h || q.in_w < k_w)
      return fail("expected poolSize " + window_str(k_h, k_w) + " to fit in x " + shape_str(x) + " (padding 'valid')");
    q.out_h = (q.in_h - k_h) / stride_h + 1;
    q.out_w = (q.in_w - k_w) / stride_w + 1;
  }
  CN_RETURN_IF_ERROR(validate_pool2d_params(op, q));
  *p = q;
  return Status::ok();
}

Status validate_pool2d_params(const char* op, const Pool2DParams& p) {
  // Note [pooling padding]: every window overlaps the input (pad < window on each side), as
  // SAME and VALID padding guarantee; a window of padding only has no maximum.
  bool ok = p.n >= 0 && p.c >= 0 && p.in_h > 0 && p.in_w > 0 && p.k_h > 0 && p.k_w > 0 &&
            p.stride_h > 0 && p.stride_w > 0 && p.pad_top >= 0 && p.pad_left >= 0 &&
            p.pad_bottom >= 0 && p.pad_right >= 0 && p.pad_top < p.k_h && p.pad_bottom < p.k_h &&
            p.pad_left < p.k_w && p.pad_right < p.k_w && p.out_h > 0 && p.out_w > 0;
  if (ok) {
    int64_t hp = 0, wp = 0;
    ok = checked_add(p.in_h, p.pad_top, &hp) && checked_add(hp, p.pad_bottom, &hp) &&
         checked_add(p.in_w, p.pad_left, &wp) && checked_add(wp, p.pad_right, &wp) && hp >= p.k_h &&
         wp >= p.k_w && p.out_h == (hp - p.k_h) / p.stride_h + 1 && p.out_w == (wp - p.k_w) / p.stride_w + 1;
  }
  if (!ok) return invalid_argument(std::string(op) + ": inconsistent parameters " + pool2d_shapes(p));
  return Status::ok();
}

Status make_matmul_params(MatMulParams* p, const Shape& sa, const Shape& sb, bool trans_a, bool trans_b) {
  if (sa.size() < 2 || sa.size() > 3) return invalid_argument("MatMul: expected a of rank 2 or 3 but received shape " + shape_str(sa));
  if (sb.size() < 2 || sb.size() > 3) return invalid_argument("MatMul: expected b of rank 2 or 3 but received shape " + shape_str(sb));
  p->trans_a = trans_a;
  p->trans_b = trans_b;
  size_t ra = sa.size(), rb = sb.size();
  p->a_batched = ra == 3;
  p->b_batched = rb == 3;
  int64_t ba = p->a_batched ? sa[0] : 1, bb = p->b_batched ? sb[0] : 1;
  if (p->a_batched && p->b_batched && ba != bb)
    return invalid_argument("MatMul: batch sizes differ: " + shape_str(sa) + " and " + shape_str(sb));
  p->batch = std::max(ba, bb);
  p->m = trans_a ? sa[ra - 1] : sa[ra - 2];
  int64_t ka = trans_a ? sa[ra - 2] : sa[ra - 1];
  int64_t kb = trans_b ? sb[rb - 1] : sb[rb - 2];
  p->n = trans_b ? sb[rb - 2] : sb[rb - 1];
  if (ka != kb)
    return invalid_argument("MatMul: inner dimensions differ: a " + shape_str(sa) + (trans_a ? " (transposed)" : "") +
                            " and b " + shape_str(sb) + (trans_b ? " (transposed)" : ""));
  p->k = ka;
  return Status::ok();
}

Shape matmul_output_shape(const MatMulParams& p) {
  return (p.a_batched || p.b_batched) ? Shape{p.batch, p.m, p.n} : Shape{p.m, p.n};
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
