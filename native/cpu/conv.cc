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

// Rejects parameter structs no make_conv2d_params call could have produced.
Status validate(const char* op, const Conv2DParams& p) {
  bool ok = p.n >= 0 && p.in_h > 0 && p.in_w > 0 && p.in_c >= 0 && p.k_h > 0 && p.k_w > 0 &&
            p.out_c >= 0 && p.stride_h > 0 && p.stride_w > 0 && p.dil_h > 0 && p.dil_w > 0 &&
            p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0 &&
            p.out_h > 0 && p.out_w > 0;
  if (ok) {
    int64_t keh = (p.k_h - 1) * p.dil_h + 1, kew = (p.k_w - 1) * p.dil_w + 1;
    int64_t hp = p.in_h + p.pad_top + p.pad_bottom, wp = p.in_w + p.pad_left + p.pad_right;
    ok = hp >= keh && wp >= kew && p.out_h == (hp - keh) / p.stride_h + 1 &&
         p.out_w == (wp - kew) / p.stride_w + 1;
  }
  if (ok && p.depthwise) ok = p.depth_multiplier >= 0 && p.out_c == p.in_c * p.depth_multiplier;
  if (!ok) return invalid_argument(std::string(op) + ": inconsistent parameters " + conv_shapes(p));
  return Status::ok();
}

// Zero-sized convolutions never reach oneDNN.
bool is_empty(const Conv2DParams& p) { return p.n == 0 || p.in_c == 0 || p.out_c == 0; }

memory::desc activation_md(int64_t n, int64_t c, int64_t h, int64_t w) {
  return memory::desc({n, c, h, w}, kF32, Tag::nhwc);
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

// Note [layouts]: activations stay NHWC (oneDNN's brgconv kernels run on it directly, and
// reordering activations every call costs more than it saves); weights use format_tag::any
// so the kernel picks its blocked layout, and run_primitive reorders the HWIO filter (or
// the filter gradient) each call. Weights change every training step, so there is nothing
// to cache beyond the primitive.
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

dnnl::convolution_forward::desc forward_desc(const Conv2DParams& p, prop_kind prop, bool bias) {
  Geometry g = geometry(p);
  memory::desc src = activation_md(p.n, p.in_c, p.in_h, p.in_w);
  memory::desc dst = activation_md(p.n, p.out_c, p.out_h, p.out_w);
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
    auto desc = forward_desc(p, prop_kind::forward_inference, bias);
    auto pd = CN_DNNL(dnnl::convolution_forward::primitive_desc(desc, attr, cpu::cpu_engine()));
    auto cp = std::make_shared<CachedPrimitive>();
    cp->prim = CN_DNNL(dnnl::convolution_forward(pd));
    cp->impl = pd.impl_info_str();
    cp->scratchpad_md = pd.scratchpad_desc();
    cp->add_operand(DNNL_ARG_SRC, activation_md(p.n, p.in_c, p.in_h, p.in_w), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_WEIGHTS, user_weights_md(p), pd.weights_desc(), false);
    if (bias) cp->add_operand(DNNL_ARG_BIAS, bias_md(p), pd.bias_desc(), false);
    cp->add_operand(DNNL_ARG_DST, activation_md(p.n, p.out_c, p.out_h, p.out_w), pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

// Backward primitives need a forward primitive descriptor as a hint.
dnnl::convolution_forward::primitive_desc forward_hint(const Conv2DParams& p, bool bias) {
  auto desc = forward_desc(p, prop_kind::forward_training, bias);
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
    auto hint = forward_hint(p, false);
    auto pd = CN_DNNL(dnnl::convolution_backward_data::primitive_desc(
        desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    auto cp = std::make_shared<CachedPrimitive>();
    cp->prim = CN_DNNL(dnnl::convolution_backward_data(pd));
    cp->impl = pd.impl_info_str();
    cp->scratchpad_md = pd.scratchpad_desc();
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
    memory::desc src = activation_md(p.n, p.in_c, p.in_h, p.in_w);
    memory::desc diff_dst = activation_md(p.n, p.out_c, p.out_h, p.out_w);
    auto desc = bias ? CN_DNNL(dnnl::convolution_backward_weights::desc(
                           algorithm::convolution_direct, src, any_weights_md(p), bias_md(p),
                           diff_dst, g.strides, g.dilates, g.pad_l, g.pad_r))
                     : CN_DNNL(dnnl::convolution_backward_weights::desc(
                           algorithm::convolution_direct, src, any_weights_md(p), diff_dst,
                           g.strides, g.dilates, g.pad_l, g.pad_r));
    auto hint = forward_hint(p, bias);
    auto pd = CN_DNNL(dnnl::convolution_backward_weights::primitive_desc(
        desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    auto cp = std::make_shared<CachedPrimitive>();
    cp->prim = CN_DNNL(dnnl::convolution_backward_weights(pd));
    cp->impl = pd.impl_info_str();
    cp->scratchpad_md = pd.scratchpad_desc();
    cp->add_operand(DNNL_ARG_SRC, src, pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_DST, diff_dst, pd.diff_dst_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_WEIGHTS, user_weights_md(p), pd.diff_weights_desc(), true);
    if (bias) cp->add_operand(DNNL_ARG_DIFF_BIAS, bias_md(p), pd.diff_bias_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

}  // namespace

Status CpuBackend::conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                                  const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_forward", p));
  if (p.has_bias && bias == nullptr)
    return invalid_argument("conv2d_forward: has_bias is set but bias is null");
  bool use_bias = p.has_bias && bias != nullptr;
  if (p.n == 0 || p.out_c == 0) return Status::ok();
  if (p.in_c == 0) {  // no inputs: y = relu?(bias or 0) at every position
    int64_t pixels = p.n * p.out_h * p.out_w;
    for (int64_t i = 0; i < pixels; ++i)
      for (int64_t c = 0; c < p.out_c; ++c) {
        float v = use_bias ? bias[c] : 0.0f;
        y[i * p.out_c + c] = p.relu ? std::max(v, 0.0f) : v;
      }
    return Status::ok();
  }
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
