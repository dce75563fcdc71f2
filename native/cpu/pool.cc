// CpuBackend 2D pooling on oneDNN over NHWC: max and average (padding excluded from the
// average, as TensorFlow), forward and backward.
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

std::string pool_shapes(const Pool2DParams& p) { return pool2d_shapes(p); }

// The shared validator (core/params.h), so cpu and cuda accept the same structs.
Status validate(const char* op, const Pool2DParams& p) { return validate_pool2d_params(op, p); }

memory::desc input_md(const Pool2DParams& p) {
  return memory::desc({p.n, p.c, p.in_h, p.in_w}, memory::data_type::f32, memory::format_tag::nhwc);
}
memory::desc output_md(const Pool2DParams& p) {
  return memory::desc({p.n, p.c, p.out_h, p.out_w}, memory::data_type::f32,
                      memory::format_tag::nhwc);
}

// Note [average excludes padding]: TensorFlow's SAME average pooling divides by the number
// of in-bounds elements of each window.
algorithm pool_algorithm(const Pool2DParams& p) {
  return p.kind == PoolKind::kMax ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
}

std::string pool_key(const char* op, const Pool2DParams& p) {
  return cpu::cache_key(op, (int)p.kind, p.n, p.in_h, p.in_w, p.c, p.k_h, p.k_w, p.stride_h,
                        p.stride_w, p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, p.out_h,
                        p.out_w);
}

dnnl::pooling_forward::primitive_desc forward_pd(const Pool2DParams& p, prop_kind prop) {
  auto desc = CN_DNNL(dnnl::pooling_forward::desc(
      prop, pool_algorithm(p), input_md(p), output_md(p), {p.stride_h, p.stride_w},
      {p.k_h, p.k_w}, {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right}));
  return CN_DNNL(dnnl::pooling_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
}

// Inference forward (no workspace), or, with `training`, the max-pool forward that also
// writes the argmax workspace the backward consumes.
std::shared_ptr<const CachedPrimitive> forward_primitive(const Pool2DParams& p, bool training) {
  return cpu::cached_primitive(pool_key(training ? "pool2d_fwd_train" : "pool2d_fwd", p), [&] {
    auto pd = forward_pd(p, training ? prop_kind::forward_training : prop_kind::forward_inference);
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::pooling_forward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, input_md(p), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DST, output_md(p), pd.dst_desc(), true);
    if (training) cp->add_operand(DNNL_ARG_WORKSPACE, pd.workspace_desc(), pd.workspace_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

std::shared_ptr<const CachedPrimitive> backward_primitive(const Pool2DParams& p) {
  return cpu::cached_primitive(pool_key("pool2d_bwd", p), [&] {
    bool max = p.kind == PoolKind::kMax;
    auto hint = forward_pd(p, prop_kind::forward_training);
    auto desc = CN_DNNL(dnnl::pooling_backward::desc(
        pool_algorithm(p), input_md(p), output_md(p), {p.stride_h, p.stride_w}, {p.k_h, p.k_w},
        {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right}));
    auto pd = CN_DNNL(dnnl::pooling_backward::primitive_desc(desc, cpu::default_attr(),
                                                             cpu::cpu_engine(), hint));
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::pooling_backward(pd)), pd);
    cp->add_operand(DNNL_ARG_DIFF_DST, output_md(p), pd.diff_dst_desc(), false);
    if (max) cp->add_operand(DNNL_ARG_WORKSPACE, hint.workspace_desc(), hint.workspace_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_SRC, input_md(p), pd.diff_src_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

}  // namespace

Status CpuBackend::pool2d_forward(float* y, const float* x, const Pool2DParams& p) {
  CN_RETURN_IF_ERROR(validate("pool2d_forward", p));
  if (p.n == 0 || p.c == 0) return Status::ok();
  return cpu::dnnl_guard("pool2d_forward", [&] { return pool_shapes(p); }, [&] {
    cpu::run_primitive(*forward_primitive(p, false), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
    return Status::ok();
  });
}

// Note [max-pool backward recomputes]: the Backend interface passes x, not an argmax, so
// max-pool backward reruns the training forward to get oneDNN's workspace (the argmax; on
// ties the first maximum in the window, as TensorFlow) and then scatters dy through it.
Status CpuBackend::pool2d_backward(float* dx, const float* dy, const float* x,
                                   const Pool2DParams& p) {
  CN_RETURN_IF_ERROR(validate("pool2d_backward", p));
  if (p.n == 0 || p.c == 0) return Status::ok();
  return cpu::dnnl_guard("pool2d_backward", [&] { return pool_shapes(p); }, [&] {
    auto bwd = backward_primitive(p);
    if (p.kind == PoolKind::kAvg) {
      cpu::run_primitive(*bwd, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_SRC, dx}});
      return Status::ok();
    }
    auto fwd = forward_primitive(p, true);
    void* ws = cpu::thread_scratch(cpu::kWorkspaceSlot, fwd->find(DNNL_ARG_WORKSPACE)->user_md.get_size());
    void* y = cpu::thread_scratch(cpu::kTempSlot, fwd->find(DNNL_ARG_DST)->user_md.get_size());
    cpu::run_primitive(*fwd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}, {DNNL_ARG_WORKSPACE, ws}});
    cpu::run_primitive(*bwd, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_DIFF_SRC, dx}});
    return Status::ok();
  });
}

// Note [max-pool gather]: oneDNN has no primitive for max pooling's second derivative, so
// this is a plain loop: for each output, the first maximum of x in its window (row-major
// window order, TensorFlow's tie-break and oneDNN's workspace choice) picks the src value.
Status CpuBackend::max_pool_gather(float* y, const float* src, const float* x,
                                   const Pool2DParams& p) {
  CN_RETURN_IF_ERROR(validate("max_pool_gather", p));
  if (p.kind != PoolKind::kMax) return invalid_argument("max_pool_gather: expected max pooling parameters");
  const int64_t rows = p.n * p.out_h;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / p.out_h, oy = r % p.out_h;
    const int64_t hs = oy * p.stride_h - p.pad_top;
    const int64_t h0 = std::max<int64_t>(hs, 0), h1 = std::min(hs + p.k_h, p.in_h);
    const float* xn = x + n * p.in_h * p.in_w * p.c;
    const float* sn = src + n * p.in_h * p.in_w * p.c;
    for (int64_t ox = 0; ox < p.out_w; ++ox) {
      const int64_t ws = ox * p.stride_w - p.pad_left;
      const int64_t w0 = std::max<int64_t>(ws, 0), w1 = std::min(ws + p.k_w, p.in_w);
      float* out = y + (r * p.out_w + ox) * p.c;
      for (int64_t c = 0; c < p.c; ++c) {
        int64_t best_at = -1;
        float best = 0.f;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            const int64_t at = (h * p.in_w + w) * p.c + c;
            if (best_at < 0 || xn[at] > best) best = xn[at], best_at = at;
          }
        out[c] = best_at < 0 ? 0.f : sn[best_at];
      }
    }
  }
  return Status::ok();
}

}  // namespace cn
