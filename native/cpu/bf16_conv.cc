// CpuReducedPrecision, part 2: convolution (forward, backward-data, backward-weights; regular
// and depthwise, the latter as oneDNN's grouped convolution) and matmul on bf16 data with
// oneDNN 2.6. Activations stay NHWC; weights go to the layout
// the kernel picks (format_tag::any) through a reorder each call, as in conv.cc (Note
// [layouts]). The weight and bias gradients are written in float32 by the primitive
// itself (Note [casts inside primitives] in bf16_backend.h).
#include <algorithm>
#include <cstring>

#include "bf16_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using cpu::CachedPrimitive;
using cpu::dnnl_type;
using Tag = memory::format_tag;

std::string conv_shapes(const Conv2DParams& p) {
  return "x=" + shape_str(p.input_shape()) + " filter=" + shape_str(p.filter_shape()) +
         " y=" + shape_str(p.output_shape());
}

// The shared validator (core/params.h), as the float32 convolutions use.
Status validate(const char* op, const Conv2DParams& p) { return validate_conv2d_params(op, p); }

memory::desc src_md(const Conv2DParams& p, DType t, Tag tag = Tag::nhwc) {
  return memory::desc({p.n, p.in_c, p.in_h, p.in_w}, dnnl_type(t), tag);
}
memory::desc dst_md(const Conv2DParams& p, DType t, Tag tag = Tag::nhwc) {
  return memory::desc({p.n, p.out_c, p.out_h, p.out_w}, dnnl_type(t), tag);
}
// Depthwise filters (HWCM) are oneDNN's grouped weights {g=C, o=M, i=1, kh, kw}, laid out
// as hwigo (Note [depthwise as grouped convolution] in conv.cc).
memory::dims weights_dims(const Conv2DParams& p) {
  if (p.depthwise) return {p.in_c, p.depth_multiplier, 1, p.k_h, p.k_w};
  return {p.out_c, p.in_c, p.k_h, p.k_w};
}
memory::desc weights_md(const Conv2DParams& p, DType t, Tag tag) { return memory::desc(weights_dims(p), dnnl_type(t), tag); }
// The filter as the user stores it: HWIO, or HWCM for depthwise.
memory::desc user_weights_md(const Conv2DParams& p, DType t) {
  return weights_md(p, t, p.depthwise ? Tag::hwigo : Tag::hwio);
}
memory::desc bias_md(const Conv2DParams& p, DType t) { return memory::desc({p.out_c}, dnnl_type(t), Tag::x); }

struct Geometry {
  memory::dims strides, dilates, pad_l, pad_r;
};
Geometry geometry(const Conv2DParams& p) {
  return {{p.stride_h, p.stride_w}, {p.dil_h - 1, p.dil_w - 1}, {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right}};
}

std::string conv_key(const char* op, const Conv2DParams& p, int t0, int t1, int t2, int t3, Tag act) {
  return cpu::cache_key(op, p.n, p.in_h, p.in_w, p.in_c, p.k_h, p.k_w, p.out_c, p.stride_h,
                        p.stride_w, p.dil_h, p.dil_w, p.pad_top, p.pad_bottom, p.pad_left,
                        p.pad_right, p.out_h, p.out_w, (int)p.relu, (int)p.depthwise, p.depth_multiplier, t0, t1,
                        t2, t3, (int)act);
}

// The forward description: x and w of type t, bias of type bt (undef: none), y of type yt.
dnnl::convolution_forward::desc forward_desc(const Conv2DParams& p, prop_kind prop, DType t, DType yt,
                                             bool bias, DType bt, Tag act) {
  Geometry g = geometry(p);
  if (bias)
    return CN_DNNL(dnnl::convolution_forward::desc(prop, algorithm::convolution_direct, src_md(p, t, act),
                                                   weights_md(p, t, Tag::any), bias_md(p, bt), dst_md(p, yt, act),
                                                   g.strides, g.dilates, g.pad_l, g.pad_r));
  return CN_DNNL(dnnl::convolution_forward::desc(prop, algorithm::convolution_direct, src_md(p, t, act),
                                                 weights_md(p, t, Tag::any), dst_md(p, yt, act), g.strides,
                                                 g.dilates, g.pad_l, g.pad_r));
}

}  // namespace

Status CpuReducedPrecision::conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias,
                                           const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_forward", p));
  if (x.dtype != w.dtype) return invalid_argument("conv2d_forward: x and filter dtypes differ");
  if (p.n == 0 || p.out_c == 0 || p.in_c == 0)
    return not_supported("conv2d_forward: empty convolutions in " + std::string(dtype_name(x.dtype)));
  return cpu::dnnl_guard("conv2d_forward", [&] { return conv_shapes(p); }, [&] {
    bool has_bias = (bool)bias;
    auto cp = cpu::cached_primitive(
        conv_key("rp_conv_fwd", p, (int)x.dtype, (int)y.dtype, has_bias ? (int)bias.dtype : -1, 0, Tag::nhwc), [&] {
          dnnl::primitive_attr attr = cpu::default_attr();
          if (p.relu) {
            dnnl::post_ops ops;
            CN_DNNL(ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f));
            CN_DNNL(attr.set_post_ops(ops));
          }
          auto desc = forward_desc(p, prop_kind::forward_inference, x.dtype, y.dtype, has_bias, bias.dtype, Tag::nhwc);
          auto pd = CN_DNNL(dnnl::convolution_forward::primitive_desc(desc, attr, cpu::cpu_engine()));
          auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_forward(pd)), pd);
          c->add_operand(DNNL_ARG_SRC, src_md(p, x.dtype), pd.src_desc(), false);
          c->add_operand(DNNL_ARG_WEIGHTS, user_weights_md(p, w.dtype), pd.weights_desc(), false);
          if (has_bias) c->add_operand(DNNL_ARG_BIAS, bias_md(p, bias.dtype), pd.bias_desc(), false);
          c->add_operand(DNNL_ARG_DST, dst_md(p, y.dtype), pd.dst_desc(), true);
          return std::shared_ptr<const CachedPrimitive>(c);
        });
    if (has_bias)
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_WEIGHTS, w.data}, {DNNL_ARG_BIAS, bias.data},
                               {DNNL_ARG_DST, y.data}});
    else
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_WEIGHTS, w.data}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

namespace {

// Note [bf16 backward data as forward]: as for float32 (Note [backward data as forward] in
// conv.cc), a stride-1 data gradient is the forward convolution of dy with the filter
// flipped in space and its channel axes swapped; oneDNN 2.6's bf16 brgconv forward is
// faster than its jit_bf16 backward-data kernel (bench/bf16-conv.ts).
bool use_forward_backward_data(const Conv2DParams& p) {
  if (p.depthwise || p.stride_h != 1 || p.stride_w != 1 || p.in_c < 16) return false;
  return p.pad_top <= (p.k_h - 1) * p.dil_h && p.pad_bottom <= (p.k_h - 1) * p.dil_h &&
         p.pad_left <= (p.k_w - 1) * p.dil_w && p.pad_right <= (p.k_w - 1) * p.dil_w;
}

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

Status backward_data_by_forward(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) {
  Conv2DParams q = backward_data_as_forward(p);
  auto cp = cpu::cached_primitive(conv_key("rp_conv_bwd_data_as_fwd", p, (int)dy.dtype, (int)dx.dtype, 0, 0, Tag::nhwc), [&] {
    auto desc = forward_desc(q, prop_kind::forward_inference, dy.dtype, dx.dtype, false, DType::kFloat32, Tag::nhwc);
    auto pd = CN_DNNL(dnnl::convolution_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
    // The flipped HWIO filter [kh][kw][ic][oc] seen as the new convolution's {O=ic, I=oc}.
    memory::desc flipped({q.out_c, q.in_c, q.k_h, q.k_w}, dnnl_type(w.dtype),
                         {q.in_c, 1, q.k_w * q.in_c * q.out_c, q.in_c * q.out_c});
    auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_forward(pd)), pd);
    c->add_operand(DNNL_ARG_SRC, src_md(q, dy.dtype), pd.src_desc(), false);
    c->add_operand(DNNL_ARG_WEIGHTS, flipped, pd.weights_desc(), false);
    c->add_operand(DNNL_ARG_DST, dst_md(q, dx.dtype), pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(c);
  });
  const size_t elem = dtype_size(w.dtype);
  const int64_t taps = p.k_h * p.k_w, block = p.in_c * p.out_c;
  char* out = static_cast<char*>(cpu::thread_scratch(cpu::kTempSlot, elem * (size_t)(taps * block)));
  const char* in = static_cast<const char*>(w.data);
  for (int64_t t = 0; t < taps; ++t)  // tap (kh, kw) <- (k_h-1-kh, k_w-1-kw)
    std::memcpy(out + t * block * elem, in + (taps - 1 - t) * block * elem, elem * (size_t)block);
  cpu::run_primitive(*cp, {{DNNL_ARG_SRC, dy.data}, {DNNL_ARG_WEIGHTS, out}, {DNNL_ARG_DST, dx.data}});
  return Status::ok();
}

}  // namespace

Status CpuReducedPrecision::conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w,
                                                 const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_backward_data", p));
  if (dy.dtype != w.dtype) return invalid_argument("conv2d_backward_data: dy and filter dtypes differ");
  if (p.n == 0 || p.out_c == 0 || p.in_c == 0)
    return not_supported("conv2d_backward_data: empty convolutions in " + std::string(dtype_name(dy.dtype)));
  return cpu::dnnl_guard("conv2d_backward_data", [&] { return conv_shapes(p); }, [&] {
    if (use_forward_backward_data(p)) return backward_data_by_forward(dx, dy, w, p);
    auto cp = cpu::cached_primitive(conv_key("rp_conv_bwd_data", p, (int)dy.dtype, (int)dx.dtype, 0, 0, Tag::nhwc), [&] {
      Geometry g = geometry(p);
      auto desc = CN_DNNL(dnnl::convolution_backward_data::desc(
          algorithm::convolution_direct, src_md(p, dx.dtype), weights_md(p, w.dtype, Tag::any),
          dst_md(p, dy.dtype), g.strides, g.dilates, g.pad_l, g.pad_r));
      auto hint_desc = forward_desc(p, prop_kind::forward_training, dy.dtype, dy.dtype, false, DType::kFloat32, Tag::nhwc);
      auto hint = CN_DNNL(dnnl::convolution_forward::primitive_desc(hint_desc, cpu::cpu_engine()));
      auto pd = CN_DNNL(dnnl::convolution_backward_data::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine(), hint));
      auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_backward_data(pd)), pd);
      c->add_operand(DNNL_ARG_DIFF_DST, dst_md(p, dy.dtype), pd.diff_dst_desc(), false);
      c->add_operand(DNNL_ARG_WEIGHTS, user_weights_md(p, w.dtype), pd.weights_desc(), false);
      c->add_operand(DNNL_ARG_DIFF_SRC, src_md(p, dx.dtype), pd.diff_src_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(c);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_WEIGHTS, w.data}, {DNNL_ARG_DIFF_SRC, dx.data}});
    return Status::ok();
  });
}

// Note [bf16 filter-gradient layout]: unlike float32 (Note [activation layout policy] in
// conv.cc), the bf16 weight gradient runs on NHWC activations at every channel count:
// measured on the Fashion-MNIST CNN's layers at batch 128 (2-core Zen 4, oneDNN 2.6,
// jit_bf16:avx512_core_bf16 either way), NHWC took 25-32 ms against 57-76 ms for the
// blocked layout on the 1-channel 7x7 layer, and 76 / 112 ms against 100-108 / 141-184 ms on
// the 64- and 128-channel 14x14 layers.
Status CpuReducedPrecision::conv2d_backward_filter(TypedPtr dw, TypedPtr dbias, TypedPtr x, TypedPtr dy,
                                                   const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate("conv2d_backward_filter", p));
  if (x.dtype != dy.dtype) return invalid_argument("conv2d_backward_filter: x and dy dtypes differ");
  if (p.n == 0 || p.out_c == 0 || p.in_c == 0)
    return not_supported("conv2d_backward_filter: empty convolutions in " + std::string(dtype_name(x.dtype)));
  bool has_bias = (bool)dbias;
  return cpu::dnnl_guard("conv2d_backward_filter", [&] { return conv_shapes(p); }, [&] {
    auto make = [&](Tag act) {
      Geometry g = geometry(p);
      auto desc = has_bias
                      ? CN_DNNL(dnnl::convolution_backward_weights::desc(
                            algorithm::convolution_direct, src_md(p, x.dtype, act), weights_md(p, dw.dtype, Tag::any),
                            bias_md(p, dbias.dtype), dst_md(p, dy.dtype, act), g.strides, g.dilates, g.pad_l, g.pad_r))
                      : CN_DNNL(dnnl::convolution_backward_weights::desc(
                            algorithm::convolution_direct, src_md(p, x.dtype, act), weights_md(p, dw.dtype, Tag::any),
                            dst_md(p, dy.dtype, act), g.strides, g.dilates, g.pad_l, g.pad_r));
      auto hint_desc = forward_desc(p, prop_kind::forward_training, x.dtype, dy.dtype, has_bias,
                                    has_bias ? dbias.dtype : DType::kFloat32, act);
      auto hint = CN_DNNL(dnnl::convolution_forward::primitive_desc(hint_desc, cpu::cpu_engine()));
      return CN_DNNL(dnnl::convolution_backward_weights::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    };
    auto cp = cpu::cached_primitive(
        conv_key("rp_conv_bwd_filter", p, (int)x.dtype, (int)dw.dtype, has_bias ? (int)dbias.dtype : -1, 0, Tag::nhwc),
        [&] {
          auto pd = make(Tag::nhwc);
          auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::convolution_backward_weights(pd)), pd);
          c->add_operand(DNNL_ARG_SRC, src_md(p, x.dtype), pd.src_desc(), false);
          c->add_operand(DNNL_ARG_DIFF_DST, dst_md(p, dy.dtype), pd.diff_dst_desc(), false);
          c->add_operand(DNNL_ARG_DIFF_WEIGHTS, user_weights_md(p, dw.dtype), pd.diff_weights_desc(), true);
          if (has_bias) c->add_operand(DNNL_ARG_DIFF_BIAS, bias_md(p, dbias.dtype), pd.diff_bias_desc(), true);
          return std::shared_ptr<const CachedPrimitive>(c);
        });
    if (has_bias)
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_DIFF_WEIGHTS, dw.data},
                               {DNNL_ARG_DIFF_BIAS, dbias.data}});
    else
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_DIFF_WEIGHTS, dw.data}});
    return Status::ok();
  });
}

// Depthwise: the same primitives with grouped weights (weights_dims); p.depthwise must be set.
Status CpuReducedPrecision::depthwise_conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias,
                                                     const Conv2DParams& p) {
  if (!p.depthwise) return invalid_argument("depthwise_conv2d_forward: expected depthwise parameters");
  return conv2d_forward(y, x, w, bias, p);
}
Status CpuReducedPrecision::depthwise_conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) {
  if (!p.depthwise) return invalid_argument("depthwise_conv2d_backward_data: expected depthwise parameters");
  return conv2d_backward_data(dx, dy, w, p);
}
Status CpuReducedPrecision::depthwise_conv2d_backward_filter(TypedPtr dw, TypedPtr x, TypedPtr dy, const Conv2DParams& p) {
  if (!p.depthwise) return invalid_argument("depthwise_conv2d_backward_filter: expected depthwise parameters");
  return conv2d_backward_filter(dw, TypedPtr(), x, dy, p);
}

// C[batch, m, n] = op(A) op(B) (+ bias) on oneDNN's matmul; transposes are strides, and a
// batch of 1 broadcasts.
Status CpuReducedPrecision::matmul(TypedPtr c, TypedPtr a, TypedPtr b, TypedPtr bias, const MatMulParams& p) {
  if (a.dtype != b.dtype) return invalid_argument("matmul: a and b dtypes differ");
  if (p.batch < 0 || p.m < 0 || p.n < 0 || p.k < 0) return invalid_argument("matmul: negative sizes");
  if (p.batch == 0 || p.m == 0 || p.n == 0) return Status::ok();
  if (p.k == 0) return not_supported("matmul: an empty inner dimension in " + std::string(dtype_name(a.dtype)));
  auto shapes = [&] {
    return "batch=" + std::to_string(p.batch) + " m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) +
           " k=" + std::to_string(p.k);
  };
  return cpu::dnnl_guard("matmul", shapes, [&] {
    bool has_bias = (bool)bias;
    auto cp = cpu::cached_primitive(
        cpu::cache_key("rp_matmul", p.batch, p.m, p.n, p.k, (int)p.a_batched, (int)p.b_batched, (int)p.trans_a,
                       (int)p.trans_b, (int)p.relu, (int)a.dtype, (int)c.dtype, has_bias ? (int)bias.dtype : -1),
        [&] {
          int64_t ba = p.a_batched ? p.batch : 1, bb = p.b_batched ? p.batch : 1;
          memory::desc am({ba, p.m, p.k}, dnnl_type(a.dtype),
                          p.trans_a ? memory::dims{p.m * p.k, 1, p.m} : memory::dims{p.m * p.k, p.k, 1});
          memory::desc bm({bb, p.k, p.n}, dnnl_type(b.dtype),
                          p.trans_b ? memory::dims{p.k * p.n, 1, p.k} : memory::dims{p.k * p.n, p.n, 1});
          memory::desc cm({p.batch, p.m, p.n}, dnnl_type(c.dtype), memory::dims{p.m * p.n, p.n, 1});
          memory::desc biasm({1, 1, p.n}, dnnl_type(has_bias ? bias.dtype : DType::kFloat32), memory::dims{p.n, p.n, 1});
          dnnl::primitive_attr attr = cpu::default_attr();
          if (p.relu) {
            dnnl::post_ops ops;
            CN_DNNL(ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f));
            CN_DNNL(attr.set_post_ops(ops));
          }
          auto desc = has_bias ? CN_DNNL(dnnl::matmul::desc(am, bm, biasm, cm)) : CN_DNNL(dnnl::matmul::desc(am, bm, cm));
          auto pd = CN_DNNL(dnnl::matmul::primitive_desc(desc, attr, cpu::cpu_engine()));
          auto cpm = cpu::new_cached_primitive(CN_DNNL(dnnl::matmul(pd)), pd);
          cpm->add_operand(DNNL_ARG_SRC, am, pd.src_desc(), false);
          cpm->add_operand(DNNL_ARG_WEIGHTS, bm, pd.weights_desc(), false);
          if (has_bias) cpm->add_operand(DNNL_ARG_BIAS, biasm, pd.bias_desc(), false);
          cpm->add_operand(DNNL_ARG_DST, cm, pd.dst_desc(), true);
          return std::shared_ptr<const CachedPrimitive>(cpm);
        });
    if (has_bias)
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, a.data}, {DNNL_ARG_WEIGHTS, b.data}, {DNNL_ARG_BIAS, bias.data},
                               {DNNL_ARG_DST, c.data}});
    else
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, a.data}, {DNNL_ARG_WEIGHTS, b.data}, {DNNL_ARG_DST, c.data}});
    return Status::ok();
  });
}

}  // namespace cn
