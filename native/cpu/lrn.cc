// CpuBackend local response normalization across channels on oneDNN's lrn primitive
// (algorithm lrn_across_channels), forward and backward, with TensorFlow's LRN semantics.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using cpu::CachedPrimitive;

std::string lrn_shapes(const LRNParams& p) {
  return "x=[" + std::to_string(p.rows) + "," + std::to_string(p.c) +
         "] depth_radius=" + std::to_string(p.depth_radius) + " bias=" + std::to_string(p.bias) +
         " alpha=" + std::to_string(p.alpha) + " beta=" + std::to_string(p.beta);
}

Status validate(const char* op, const LRNParams& p) {
  if (p.rows < 0 || p.c < 0 || p.depth_radius < 0 || !(p.bias > 0.0f) || !(p.alpha >= 0.0f))
    return invalid_argument(std::string(op) + ": inconsistent parameters " + lrn_shapes(p));
  return Status::ok();
}

// [rows, c] as an NCHW-dims descriptor with 1x1 spatial extent in nhwc order: the row-major
// [rows, c] buffer exactly.
memory::desc data_md(const LRNParams& p) {
  return memory::desc({p.rows, p.c, 1, 1}, memory::data_type::f32, memory::format_tag::nhwc);
}

// Note [LRN alpha]: oneDNN divides alpha by the window size (dst = src / (k + alpha / n *
// sum)^beta, n = local_size, also at the channel borders where fewer terms are summed);
// TensorFlow does not. With n = 2 * depth_radius + 1, oneDNN alpha = TF alpha * n gives
// TensorFlow's formula exactly, borders included.
int64_t local_size(const LRNParams& p) { return 2 * p.depth_radius + 1; }
float dnnl_alpha(const LRNParams& p) { return p.alpha * (float)local_size(p); }

// Floats enter the cache key by their bits (std::to_string rounds to 6 decimals).
uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

std::string lrn_key(const char* op, const LRNParams& p) {
  return cpu::cache_key(op, p.rows, p.c, p.depth_radius, bits(p.bias), bits(p.alpha), bits(p.beta));
}

// Note [LRN on oneDNN's reference implementation]: oneDNN 2.6's jit LRN (lrn_jit:avx512_core
// over nhwc) crashes for local_size 1 (depthRadius 0) and returns wrong backward values for
// 20 channels with depthRadius >= 3 (checked against TensorFlow's LRNGrad), so the primitive
// descriptors are advanced to oneDNN's reference implementation ("lrn_ref"), which matches
// TensorFlow for every radius and channel count. LRN is memory-bound and small next to the
// convolutions around it.
template <class PD>
void reference_impl(PD* pd) {
  while (std::string(pd->impl_info_str()).rfind("lrn_ref", 0) != 0)
    if (!CN_DNNL(pd->next_impl()))
      throw std::runtime_error("no reference lrn implementation in this oneDNN (last: " +
                               std::string(pd->impl_info_str()) + ")");
}

dnnl::lrn_forward::primitive_desc forward_pd(const LRNParams& p, prop_kind prop) {
  auto desc = CN_DNNL(dnnl::lrn_forward::desc(prop, algorithm::lrn_across_channels, data_md(p),
                                              local_size(p), dnnl_alpha(p), p.beta, p.bias));
  auto pd = CN_DNNL(dnnl::lrn_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
  reference_impl(&pd);
  return pd;
}

// Inference forward, or with `training` the forward that also writes the workspace some
// implementations' backward consumes.
std::shared_ptr<const CachedPrimitive> forward_primitive(const LRNParams& p, bool training) {
  return cpu::cached_primitive(lrn_key(training ? "lrn_fwd_train" : "lrn_fwd", p), [&] {
    auto pd = forward_pd(p, training ? prop_kind::forward_training : prop_kind::forward_inference);
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::lrn_forward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, data_md(p), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DST, data_md(p), pd.dst_desc(), true);
    if (training && pd.workspace_desc().get_size() > 0)
      cp->add_operand(DNNL_ARG_WORKSPACE, pd.workspace_desc(), pd.workspace_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

std::shared_ptr<const CachedPrimitive> backward_primitive(const LRNParams& p) {
  return cpu::cached_primitive(lrn_key("lrn_bwd", p), [&] {
    auto hint = forward_pd(p, prop_kind::forward_training);
    auto desc = CN_DNNL(dnnl::lrn_backward::desc(algorithm::lrn_across_channels, data_md(p),
                                                 data_md(p), local_size(p), dnnl_alpha(p),
                                                 p.beta, p.bias));
    auto pd = CN_DNNL(dnnl::lrn_backward::primitive_desc(desc, cpu::default_attr(),
                                                         cpu::cpu_engine(), hint));
    reference_impl(&pd);
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::lrn_backward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, data_md(p), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_DST, data_md(p), pd.diff_dst_desc(), false);
    if (hint.workspace_desc().get_size() > 0)
      cp->add_operand(DNNL_ARG_WORKSPACE, hint.workspace_desc(), hint.workspace_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_SRC, data_md(p), pd.diff_src_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

}  // namespace

Status CpuBackend::lrn_forward(float* y, const float* x, const LRNParams& p) {
  CN_RETURN_IF_ERROR(validate("lrn_forward", p));
  if (p.rows == 0 || p.c == 0) return Status::ok();
  return cpu::dnnl_guard("lrn_forward", [&] { return lrn_shapes(p); }, [&] {
    cpu::run_primitive(*forward_primitive(p, false), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
    return Status::ok();
  });
}

// Note [LRN backward workspace]: oneDNN's backward recomputes the window sums from x (so the
// forward output y is not needed); implementations that want a workspace get it from a
// rerun of the training forward, as max-pool backward does (pool.cc).
Status CpuBackend::lrn_backward(float* dx, const float* dy, const float* x, const float*,
                                const LRNParams& p) {
  CN_RETURN_IF_ERROR(validate("lrn_backward", p));
  if (p.rows == 0 || p.c == 0) return Status::ok();
  return cpu::dnnl_guard("lrn_backward", [&] { return lrn_shapes(p); }, [&] {
    auto bwd = backward_primitive(p);
    if (!bwd->find(DNNL_ARG_WORKSPACE)) {
      cpu::run_primitive(*bwd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_SRC, dx}});
      return Status::ok();
    }
    auto fwd = forward_primitive(p, true);
    void* ws = cpu::thread_scratch(cpu::kWorkspaceSlot,
                                   bwd->find(DNNL_ARG_WORKSPACE)->user_md.get_size());
    void* tmp = cpu::thread_scratch(cpu::kTempSlot, fwd->find(DNNL_ARG_DST)->user_md.get_size());
    cpu::run_primitive(*fwd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, tmp}, {DNNL_ARG_WORKSPACE, ws}});
    cpu::run_primitive(*bwd, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WORKSPACE, ws},
                              {DNNL_ARG_DIFF_SRC, dx}});
    return Status::ok();
  });
}

}  // namespace cn
