// CpuBackend 2D convolution on oneDNN: forward (optional bias and fused ReLU),
// backward-data and backward-filter (optional bias gradient), regular (HWIO filter) and
// depthwise (HWCM filter, as TensorFlow's depthwise_conv2d) over NHWC activations.
#include <algorithm>
#include <cstring>

#include "cpu_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using cpu::CachedPrimitive;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

std::string conv_shapes(const Conv2DParams& p) {
  return "x=" + shape_str(p.input_shape()) + " filter=" + shape_str(p.filter_shape()) +
         (p.depthwise ? " (HWCM)" : " (HWIO)") + " y=" + shape_str(p.output_shape()) +
         " strides=[" + std::to_string(p.stride_h) + "," + std::to_string(p.stride_w) +
         "] dilations=[" + std::to_string(p.dil_h) + "," + std::to_string(p.dil_w) + "] pads=[" +
         std::to_string(p.pad_top) + "," + std::to_string(p.pad_bottom) + "," +
         std::to_string(p.pad_left) + "," + std::to_string(p.pad_right) + "]";
}

// The shared validator (core/params.h), so cpu and cuda accept the same structs.
Status validate(const char* op, const Conv2DParams& p) { return validate_conv2d_params(op, p); }

// Zero-sized convolutions never reach oneDNN.
bool is_empty(const Conv2DParams& p) { return p.n == 0 || p.out_c == 0; }  // in_c >= 1 (Note [empty convolutions])

memory::desc activation_md(int64_t n, int64_t c, int64_t h, int64_t w, Tag tag = Tag::nhwc) {
  return memory::desc({n, c, h, w}, kF32, tag);
}

enum class Direction { kForward, kBackwardData, kBackwardFilter };

struct ActivationTags {
  Tag src, dst;
};
constexpr ActivationTags kNhwc{Tag::nhwc, Tag::nhwc};

// Note [activation layout policy]: measured on a 2-core AVX-512 machine with oneDNN 2.6
// (timings include the activation reorders):
// - forward: NHWC brgconv, except with 1-3 input channels (image inputs), where the NHWC
//   kernel vectorizes poorly and the blocked one (nchw x -> nChw16c y) is ~1.5x faster
//   even after reordering y. The tags are explicit: with `any`, forward_inference picks
//   brgconv on NHWC, and an NHWC x with a blocked y selects the reference kernel.
// - filter gradient: the blocked kernel is ~3x faster with few input channels, 1.3-1.5x
//   up to 32, and 10-25% faster up to 128 input channels on 14x14 and larger images;
//   on 7x7 images or with 256 channels NHWC is as fast or faster.
// - data gradient: NHWC is as fast as blocked (small input channels: see
//   use_gemm_backward_data).
ActivationTags activation_tags(const Conv2DParams& p, Direction d) {
  if (p.depthwise) return kNhwc;
  switch (d) {
    case Direction::kForward:
      return p.in_c < 4 ? ActivationTags{Tag::nchw, Tag::nChw16c} : kNhwc;
    case Direction::kBackwardFilter: {
      bool blocked = p.in_c <= 32 || (p.in_c <= 128 && p.out_h * p.out_w >= 14 * 14);
      return blocked ? ActivationTags{Tag::any, Tag::any} : kNhwc;
    }
    case Direction::kBackwardData:
      return kNhwc;
  }
  return kNhwc;
}

// Creates a primitive descriptor with the preferred activation tags, falling back to NHWC
// when oneDNN has no kernel (or only its reference kernel) for them.
template <class MakePd>
auto with_layout_fallback(ActivationTags preferred, MakePd make) -> decltype(make(kNhwc)) {
  if (preferred.src == Tag::nhwc && preferred.dst == Tag::nhwc) return make(kNhwc);
  try {
    auto pd = make(preferred);
    if (std::string(pd.impl_info_str()).compare(0, 3, "ref") != 0) return pd;
  } catch (const std::exception&) {  // cpu::DnnlFailure: try the plain layout instead
  }
  return make(kNhwc);
}

memory::dims weights_dims(const Conv2DParams& p) {
  if (p.depthwise) return {p.in_c, p.depth_multiplier, 1, p.k_h, p.k_w};
  return {p.out_c, p.in_c, p.k_h, p.k_w};
}

// Note [depthwise as grouped convolution]: TensorFlow's depthwise filter HWCM computes
// output channel c*M + m from input channel c. That is oneDNN's grouped convolution with
// groups = C, dims {g=C, o=M, i=1, kh, kw}: output channel g*M + o. Laid out in memory as
// [kh][kw][C][M], which is hwigo (the i axis has extent 1).
memory::desc user_weights_md(const Conv2DParams& p) {
  return memory::desc(weights_dims(p), kF32, p.depthwise ? Tag::hwigo : Tag::hwio);
}

// Note [layouts]: weights always use format_tag::any so the kernel picks its blocked layout,
// and run_primitive reorders the HWIO filter (or the filter gradient) each call; weights
// change every training step, so there is nothing to cache beyond the primitive.
// Activations stay NHWC (oneDNN's brgconv forward runs on it directly, and reordering
// activations costs memory bandwidth every call) except where the blocked (nChw16c) kernels
// win by more than the reorders cost; see activation_tags.
memory::desc any_weights_md(const Conv2DParams& p) {
  return memory::desc(weights_dims(p), kF32, Tag::any);
}

memory::desc bias_md(const Conv2DParams& p) { return memory::desc({p.out_c}, kF32, Tag::x); }

struct Geometry {
  memory::dims strides, dilates, pad_l, pad_r;
};

// oneDNN counts dilation from 0 (dense = 0); TensorFlow from 1.
Geometry geometry(const Conv2DParams& p) {
  return {{p.stride_h, p.stride_w},
          {p.dil_h - 1, p.dil_w - 1},
          {p.pad_top, p.pad_left},
          {p.pad_bottom, p.pad_right}};
}

std::string conv_key(const char* op, const Conv2DParams& p, bool flag_a, bool flag_b) {
  return cpu::cache_key(op, p.n, p.in_h, p.in_w, p.in_c, p.k_h, p.k_w, p.out_c, p.stride_h,
                        p.stride_w, p.dil_h, p.dil_w, p.pad_top, p.pad_bottom, p.pad_left,
                        p.pad_right, p.out_h, p.out_w, (int)p.depthwise, p.depth_multiplier,
                        (int)flag_a, (int)flag_b);
}

dnnl::convolution_forward::desc forward_desc(const Conv2DParams& p, prop_kind prop, bool bias,
                                             ActivationTags act) {
  Geometry g = geometry(p);
  memory::desc src = activation_md(p.n, p.in_c, p.in_h, p.in_w, act.src);
  memory::desc dst = activation_md(p.n, p.out_c, p.out_h, p.out_w, act.dst);
  if (bias)
    return CN_DNNL(dnnl::convolution_forward::desc(prop, algorithm::convolution_direct, src,
                                                   any_weights_md(p), bias_md(p), dst, g.strides,
                                                   g.dilates, g.pad_l, g.pad_r));
  return CN_DNNL(dnnl::convolution_forward::desc(prop, algorithm::convolution_direct, src,
                                                 any_weights_md(p), dst, g.strides, g.dilates,
                                                 g.pad_l, g.pad_r));
}

std::shared_ptr<const CachedPrimitive> forward_primitive(const Conv2DParams& p, bool bias,
                                                         bool relu) {
  return cpu::cached_primitive(conv_key("conv2d_fwd", p, bias, relu), [&] {
    dnnl::primitive_attr attr = cpu::default_attr();
    if (relu) {
      dnnl::post_ops ops;
      CN_DNNL(ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f));
      CN_DNNL(attr.set_post_ops(ops));
    }
    // Note [forward_inference]: backward convolution needs no forward workspace, so the
    // training forward is the inference forward.
    auto pd = with_layout_fallback(activation_tags(p, Direction::kForward), [&](ActivationTags act) {
      auto desc = forward_desc(p, prop_kind::forward_inference, bias, act);
      return CN_DNNL(dnnl::convolution_forward::primitive_desc(desc, attr, cpu::cpu_engine()));
    });
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_forward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, activation_md(p.n, p.in_c, p.in_h, p.in_w), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_WEIGHTS, user_weights_md(p), pd.weights_desc(), false);
    if (bias) cp->add_operand(DNNL_ARG_BIAS, bias_md(p), pd.bias_desc(), false);
    cp->add_operand(DNNL_ARG_DST, activation_md(p.n, p.out_c, p.out_h, p.out_w), pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

// Backward primitives need a forward primitive descriptor as a hint.
dnnl::convolution_forward::primitive_desc forward_hint(const Conv2DParams& p, bool bias,
                                                       ActivationTags act) {
  auto desc = forward_desc(p, prop_kind::forward_training, bias, act);
  return CN_DNNL(dnnl::convolution_forward::primitive_desc(desc, cpu::cpu_engine()));
}

std::shared_ptr<const CachedPrimitive> backward_data_primitive(const Conv2DParams& p) {
  return cpu::cached_primitive(conv_key("conv2d_bwd_data", p, false, false), [&] {
    Geometry g = geometry(p);
    memory::desc diff_src = activation_md(p.n, p.in_c, p.in_h, p.in_w);
    memory::desc diff_dst = activation_md(p.n, p.out_c, p.out_h, p.out_w);
    auto desc = CN_DNNL(dnnl::convolution_backward_data::desc(
        algorithm::convolution_direct, diff_src, any_weights_md(p), diff_dst, g.strides,
        g.dilates, g.pad_l, g.pad_r));
    auto hint = forward_hint(p, false, kNhwc);
    auto pd = CN_DNNL(dnnl::convolution_backward_data::primitive_desc(
        desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_backward_data(pd)), pd);
    cp->add_operand(DNNL_ARG_DIFF_DST, diff_dst, pd.diff_dst_desc(), false);
    cp->add_operand(DNNL_ARG_WEIGHTS, user_weights_md(p), pd.weights_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_SRC, diff_src, pd.diff_src_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

std::shared_ptr<const CachedPrimitive> backward_filter_primitive(const Conv2DParams& p,
                                                                 bool bias) {
  return cpu::cached_primitive(conv_key("conv2d_bwd_filter", p, bias, false), [&] {
    Geometry g = geometry(p);
    auto make_pd = [&](ActivationTags act) {
      memory::desc src = activation_md(p.n, p.in_c, p.in_h, p.in_w, act.src);
      memory::desc diff_dst = activation_md(p.n, p.out_c, p.out_h, p.out_w, act.dst);
      auto desc = bias ? CN_DNNL(dnnl::convolution_backward_weights::desc(
                             algorithm::convolution_direct, src, any_weights_md(p), bias_md(p),
                             diff_dst, g.strides, g.dilates, g.pad_l, g.pad_r))
                       : CN_DNNL(dnnl::convolution_backward_weights::desc(
                             algorithm::convolution_direct, src, any_weights_md(p), diff_dst,
                             g.strides, g.dilates, g.pad_l, g.pad_r));
      auto hint = forward_hint(p, bias, act);
      return CN_DNNL(dnnl::convolution_backward_weights::primitive_desc(
          desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    };
    auto pd = with_layout_fallback(activation_tags(p, Direction::kBackwardFilter), make_pd);
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_backward_weights(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, activation_md(p.n, p.in_c, p.in_h, p.in_w), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_DST, activation_md(p.n, p.out_c, p.out_h, p.out_w),
                    pd.diff_dst_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_WEIGHTS, user_weights_md(p), pd.diff_weights_desc(), true);
    if (bias) cp->add_operand(DNNL_ARG_DIFF_BIAS, bias_md(p), pd.diff_bias_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

// Note [backward data as forward]: with stride 1, the data gradient of a convolution is
// the forward convolution of dy with the filter flipped in space and its channel axes
// swapped: dx[ih, iw, ic] = sum dy[ih - kh*d + pt, iw - kw*d + pl, oc] w[kh, kw, ic, oc],
// a convolution with pads (k-1)*d - pad on each side. oneDNN 2.6's brgconv forward takes
// 14-30% less time than its backward-data kernels on the Fashion-MNIST CNN's 3x3 layers
// (23.3 -> 18.3 ms at [128,14,14,128]; the flip is a few memcpys). The flipped filter goes
// to the primitive through a strided descriptor (dims {ic, oc, kh, kw}), whose reorder to
// the blocked layout does the channel swap.
bool use_forward_backward_data(const Conv2DParams& p) {
  if (p.depthwise || p.stride_h != 1 || p.stride_w != 1 || p.in_c < 16) return false;
  return p.pad_top <= (p.k_h - 1) * p.dil_h && p.pad_bottom <= (p.k_h - 1) * p.dil_h &&
         p.pad_left <= (p.k_w - 1) * p.dil_w && p.pad_right <= (p.k_w - 1) * p.dil_w;
}

// The forward convolution dy -> dx of Note [backward data as forward].
Conv2DParams backward_data_as_forward(const Conv2DParams& p) {
  Conv2DParams q = p;
  q.in_h = p.out_h;
  q.in_w = p.out_w;
  q.in_c = p.out_c;
  q.out_h = p.in_h;
  q.out_w = p.in_w;
  q.out_c = p.in_c;
  q.pad_top = (p.k_h - 1) * p.dil_h - p.pad_top;
  q.pad_bottom = (p.k_h - 1) * p.dil_h - p.pad_bottom;
  q.pad_left = (p.k_w - 1) * p.dil_w - p.pad_left;
  q.pad_right = (p.k_w - 1) * p.dil_w - p.pad_right;
  q.has_bias = false;
  q.relu = false;
  return q;
}

std::shared_ptr<const CachedPrimitive> backward_data_forward_primitive(const Conv2DParams& p) {
  return cpu::cached_primitive(conv_key("conv2d_bwd_data_as_fwd", p, false, false), [&] {
    Conv2DParams q = backward_data_as_forward(p);
    auto desc = forward_desc(q, prop_kind::forward_inference, false, kNhwc);
    auto pd = CN_DNNL(dnnl::convolution_forward::primitive_desc(desc, cpu::default_attr(),
                                                                cpu::cpu_engine()));
    // The flipped HWIO filter [kh][kw][ic][oc] seen as the new convolution's {O=ic, I=oc}.
    memory::desc flipped({q.out_c, q.in_c, q.k_h, q.k_w}, kF32,
                         {q.in_c, 1, q.k_w * q.in_c * q.out_c, q.in_c * q.out_c});
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_forward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, activation_md(q.n, q.in_c, q.in_h, q.in_w), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_WEIGHTS, flipped, pd.weights_desc(), false);
    cp->add_operand(DNNL_ARG_DST, activation_md(q.n, q.out_c, q.out_h, q.out_w), pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

// Writes the HWIO filter flipped in both spatial axes (tap (kh, kw) <- (k_h-1-kh, k_w-1-kw)).
void flip_filter(float* out, const float* w, const Conv2DParams& p) {
  const int64_t taps = p.k_h * p.k_w, block = p.in_c * p.out_c;
  for (int64_t t = 0; t < taps; ++t)
    std::memcpy(out + t * block, w + (taps - 1 - t) * block, sizeof(float) * (size_t)block);
}

// Note [small-channel backward-data]: with 1-3 input channels oneDNN's backward-data
// kernels vectorize over the input channels and crawl (~10-25 GFLOP/s on 2 cores for the
// 28x28x1 -> 64 k7 layer). Instead, one GEMM computes the column gradients
// dcol[tap, pixel] = w[tap, oc] * dy[pixel, oc]^T (tap = (kh, kw, ic), pixel = (n, oh, ow)),
// and col2im adds each tap's row of pixels into dx: for a fixed tap and output row that
// is a contiguous, vectorizable run. One image per thread, so the additions never race and
// their order is fixed. Images go in chunks that keep dcol under kColumnBytes.
bool use_gemm_backward_data(const Conv2DParams& p) { return !p.depthwise && p.in_c < 4; }
constexpr int64_t kColumnBytes = 32 << 20;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }  // a >= 0, b > 0

// Adds the column gradients of images [0, count) (dcol is [taps, count * out_h * out_w])
// into dx, already offset to the chunk.
void col2im(float* dx, const float* dcol, int64_t count, const Conv2DParams& p) {
  const int64_t pixels = p.out_h * p.out_w, chunk_pixels = count * pixels;
  const int64_t image = p.in_h * p.in_w * p.in_c;
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < count; ++n) {
    float* dxn = dx + n * image;
    for (int64_t i = 0; i < image; ++i) dxn[i] = 0.0f;
    for (int64_t kh = 0; kh < p.k_h; ++kh)
      for (int64_t kw = 0; kw < p.k_w; ++kw) {
        // iw = ow * stride_w + off_w; keep ow where 0 <= iw < in_w.
        const int64_t off_w = kw * p.dil_w - p.pad_left;
        const int64_t ow_lo = off_w >= 0 ? 0 : ceil_div(-off_w, p.stride_w);
        const int64_t ow_hi =
            p.in_w - 1 - off_w < 0 ? 0 : std::min(p.out_w, (p.in_w - 1 - off_w) / p.stride_w + 1);
        for (int64_t ic = 0; ic < p.in_c; ++ic) {
          const float* col = dcol + ((kh * p.k_w + kw) * p.in_c + ic) * chunk_pixels + n * pixels;
          for (int64_t oh = 0; oh < p.out_h; ++oh) {
            const int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
            if (ih < 0 || ih >= p.in_h) continue;
            const float* c = col + oh * p.out_w;
            float* row = dxn + ih * p.in_w * p.in_c + ic;
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) row[(ow * p.stride_w + off_w) * p.in_c] += c[ow];
          }
        }
      }
  }
}

// Note [1x1 filter gradient as GEMM]: a 1x1, stride-1, unpadded convolution is a matrix
// product over pixels, so its filter gradient is dw[ic, oc] = x[pixels, ic]^T dy[pixels, oc].
// oneDNN 2.6's sgemm takes 21-25% less time than its backward-weights kernels on Xception's
// pointwise layers (the middle flow's [8,19,19,728] -> 728: 13.0 -> 9.8 ms). Only without a
// bias gradient: that would take one more pass over dy (Xception's separable convolutions
// have no bias).
bool use_gemm_backward_filter(const Conv2DParams& p, bool bias) {
  return !bias && !p.depthwise && p.k_h == 1 && p.k_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
         p.pad_top == 0 && p.pad_bottom == 0 && p.pad_left == 0 && p.pad_right == 0;
}

}  // namespace

Status CpuBackend::conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                                  const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_forward", p));
  if (p.has_bias && bias == nullptr)
    return invalid_argument("conv2d_forward: has_bias is set but bias is null");
  bool use_bias = p.has_bias && bias != nullptr;
  if (p.n == 0 || p.out_c == 0) return Status::ok();
  return cpu::dnnl_guard("conv2d_forward", [&] { return conv_shapes(p); }, [&] {
    auto cp = forward_primitive(p, use_bias, p.relu);
    if (use_bias)
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, bias},
                               {DNNL_ARG_DST, y}});
    else
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
    return Status::ok();
  });
}

Status CpuBackend::conv2d_backward_data(float* dx, const float* dy, const float* w,
                                        const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_backward_data", p));
  if (is_empty(p)) {
    size_t n = (size_t)num_elements(p.input_shape());
    if (n > 0) std::memset(dx, 0, sizeof(float) * n);
    return Status::ok();
  }
  return cpu::dnnl_guard("conv2d_backward_data", [&] { return conv_shapes(p); }, [&] {
    if (use_gemm_backward_data(p)) {
      const int64_t pixels = p.out_h * p.out_w, taps = p.k_h * p.k_w * p.in_c;
      const int64_t chunk = std::max<int64_t>(1, kColumnBytes / (int64_t)sizeof(float) / (pixels * taps));
      float* dcol = static_cast<float*>(
          cpu::thread_scratch(cpu::kTempSlot, sizeof(float) * std::min(chunk, p.n) * pixels * taps));
      for (int64_t n0 = 0; n0 < p.n; n0 += chunk) {
        int64_t count = std::min(chunk, p.n - n0);
        MatMulParams mp;  // dcol[taps, count * pixels] = w[taps, oc] * dy[count * pixels, oc]^T
        mp.m = taps;
        mp.n = count * pixels;
        mp.k = p.out_c;
        mp.a_batched = mp.b_batched = true;
        mp.trans_b = true;
        CN_RETURN_IF_ERROR(matmul(dcol, w, dy + n0 * pixels * p.out_c, nullptr, mp));
        col2im(dx + n0 * p.in_h * p.in_w * p.in_c, dcol, count, p);
      }
      return Status::ok();
    }
    if (use_forward_backward_data(p)) {
      auto cp = backward_data_forward_primitive(p);
      const int64_t filter = p.k_h * p.k_w * p.in_c * p.out_c;
      float* flipped = static_cast<float*>(cpu::thread_scratch(cpu::kTempSlot, sizeof(float) * filter));
      flip_filter(flipped, w, p);
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, dy}, {DNNL_ARG_WEIGHTS, flipped}, {DNNL_ARG_DST, dx}});
      return Status::ok();
    }
    auto cp = backward_data_primitive(p);
    cpu::run_primitive(*cp, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx}});
    return Status::ok();
  });
}

Status CpuBackend::conv2d_backward_filter(float* dw, float* dbias, const float* x,
                                          const float* dy, const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_backward_filter", p));
  if (is_empty(p)) {
    size_t n = (size_t)num_elements(p.filter_shape());
    if (n > 0) std::memset(dw, 0, sizeof(float) * n);
    if (dbias && p.out_c > 0) std::memset(dbias, 0, sizeof(float) * (size_t)p.out_c);
    return Status::ok();
  }
  bool bias = dbias != nullptr;
  if (use_gemm_backward_filter(p, bias)) {
    MatMulParams mp;  // dw[in_c, out_c] = x[pixels, in_c]^T * dy[pixels, out_c]
    mp.m = p.in_c;
    mp.n = p.out_c;
    mp.k = p.n * p.out_h * p.out_w;
    mp.a_batched = mp.b_batched = true;
    mp.trans_a = true;
    return matmul(dw, x, dy, nullptr, mp);
  }
  return cpu::dnnl_guard("conv2d_backward_filter", [&] { return conv_shapes(p); }, [&] {
    auto cp = backward_filter_primitive(p, bias);
    if (bias)
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy},
                               {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, dbias}});
    else
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
    return Status::ok();
  });
}

}  // namespace cn
