// CpuBackend batch normalization on oneDNN over the last axis of x viewed as [rows, c]
// (NHWC activations flattened): training forward (batch mean and biased variance),
// inference forward (given statistics) and backward through the batch statistics.
// gamma and beta may be null (Keras scale=False / center=False), as may dgamma and dbeta.
// With a residual (Note [batch norm + add + relu]) the forward adds it after oneDNN's
// primitive (with p.relu too, in one AddRelu pass). With p.relu alone (Note [batch norm +
// relu] in core/params.h) the forward runs the Relu kernel in place after it, and the
// backward masks dy where the recomputed y is not positive before running oneDNN's backward.
#include <cstring>

#include "cpu_backend.h"
#include "dnnl_check.h"
#include "parallel.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::memory;
using dnnl::normalization_flags;
using dnnl::prop_kind;
using cpu::CachedPrimitive;

std::string bn_shapes(const BatchNormParams& p) {
  return "x=[" + std::to_string(p.rows) + "," + std::to_string(p.c) +
         "] epsilon=" + std::to_string(p.epsilon);
}

Status validate(const char* op, const BatchNormParams& p) {
  if (p.rows < 0 || p.c < 0 || !(p.epsilon >= 0.0f))
    return invalid_argument(std::string(op) + ": inconsistent parameters " + bn_shapes(p));
  return Status::ok();
}

// Note [batchnorm as 4D]: [rows, c] is described to oneDNN as NHWC {rows, c, 1, 1}, not as
// 2D "nc": oneDNN 2.6 runs "nc" on its reference-like ncsp kernel (about 50x slower on
// [100352, 64]) but NHWC on the jit kernel, which also parallelizes well over N.
memory::desc data_md(const BatchNormParams& p) {
  return memory::desc({p.rows, p.c, 1, 1}, memory::data_type::f32, memory::format_tag::nhwc);
}
memory::desc channel_md(const BatchNormParams& p) {
  return memory::desc({p.c}, memory::data_type::f32, memory::format_tag::x);
}

const normalization_flags kScaleShift =
    normalization_flags::use_scale | normalization_flags::use_shift;

std::string bn_key(const char* op, const BatchNormParams& p, bool scale, bool shift) {
  // The epsilon is part of the primitive; keep its exact bits in the key.
  uint32_t eps_bits;
  std::memcpy(&eps_bits, &p.epsilon, sizeof eps_bits);
  return cpu::cache_key(op, p.rows, p.c, eps_bits, (int)scale, (int)shift);
}

dnnl::batch_normalization_forward::primitive_desc forward_pd(const BatchNormParams& p,
                                                             prop_kind prop,
                                                             normalization_flags flags) {
  auto desc = CN_DNNL(dnnl::batch_normalization_forward::desc(prop, data_md(p), p.epsilon, flags));
  return CN_DNNL(dnnl::batch_normalization_forward::primitive_desc(desc, cpu::default_attr(),
                                                                   cpu::cpu_engine()));
}

// Note [optional gamma/beta]: Keras allows scale=False / center=False; a null gamma or
// beta drops use_scale / use_shift from the forward primitive.
std::shared_ptr<const CachedPrimitive> forward_primitive(const BatchNormParams& p, bool training,
                                                         bool scale, bool shift) {
  const char* op = training ? "bn_fwd_train" : "bn_fwd_infer";
  return cpu::cached_primitive(bn_key(op, p, scale, shift), [&] {
    normalization_flags flags = normalization_flags::none;
    if (scale) flags = flags | normalization_flags::use_scale;
    if (shift) flags = flags | normalization_flags::use_shift;
    if (!training) flags = flags | normalization_flags::use_global_stats;
    auto pd = forward_pd(p, training ? prop_kind::forward_training : prop_kind::forward_inference,
                         flags);
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::batch_normalization_forward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, data_md(p), pd.src_desc(), false);
    if (scale) cp->add_operand(DNNL_ARG_SCALE, channel_md(p), channel_md(p), false);
    if (shift) cp->add_operand(DNNL_ARG_SHIFT, channel_md(p), channel_md(p), false);
    cp->add_operand(DNNL_ARG_MEAN, channel_md(p), pd.mean_desc(), training);
    cp->add_operand(DNNL_ARG_VARIANCE, channel_md(p), pd.variance_desc(), training);
    cp->add_operand(DNNL_ARG_DST, data_md(p), pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

std::shared_ptr<const CachedPrimitive> backward_primitive(const BatchNormParams& p) {
  return cpu::cached_primitive(bn_key("bn_bwd", p, true, true), [&] {
    auto hint = forward_pd(p, prop_kind::forward_training, kScaleShift);
    auto desc = CN_DNNL(dnnl::batch_normalization_backward::desc(
        prop_kind::backward, data_md(p), data_md(p), p.epsilon, kScaleShift));
    auto pd = CN_DNNL(dnnl::batch_normalization_backward::primitive_desc(
        desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::batch_normalization_backward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, data_md(p), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_DST, data_md(p), pd.diff_dst_desc(), false);
    cp->add_operand(DNNL_ARG_SCALE, channel_md(p), channel_md(p), false);
    // Note [backward shift]: oneDNN 2.6 refuses to execute the use_shift backward without
    // a SHIFT argument, though the gradients do not depend on its values.
    cp->add_operand(DNNL_ARG_SHIFT, channel_md(p), channel_md(p), false);
    cp->add_operand(DNNL_ARG_MEAN, channel_md(p), pd.mean_desc(), false);
    cp->add_operand(DNNL_ARG_VARIANCE, channel_md(p), pd.variance_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_SRC, data_md(p), pd.diff_src_desc(), true);
    cp->add_operand(DNNL_ARG_DIFF_SCALE, channel_md(p), channel_md(p), true);
    cp->add_operand(DNNL_ARG_DIFF_SHIFT, channel_md(p), channel_md(p), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

void zero(float* p, int64_t n) {
  if (p && n > 0) std::memset(p, 0, sizeof(float) * (size_t)n);
}

// out = dy where (x - mean) * gamma / sqrt(var + eps) + beta > 0, else 0 (the relu's mask,
// from the forward's own inputs).
void mask_relu_grad(float* out, const float* dy, const float* x, const float* gamma,
                    const float* beta, const float* mean, const float* var,
                    const BatchNormParams& p) {
  float* coef = static_cast<float*>(cpu::thread_scratch(cpu::kTempSlot, 3 * sizeof(float) * p.c));
  for (int64_t ch = 0; ch < p.c; ++ch) {
    const float inv = 1.f / std::sqrt(var[ch] + p.epsilon);
    coef[ch] = gamma ? gamma[ch] * inv : inv;
    coef[p.c + ch] = mean[ch];
    coef[2 * p.c + ch] = beta ? beta[ch] : 0.f;
  }
  const int64_t c = p.c;
  cpu::parallel_for(p.rows, cpu::row_grain(c), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t i = r * c + ch;
        const float y = (x[i] - coef[c + ch]) * coef[ch] + coef[2 * c + ch];
        out[i] = cpu::bits_select(y > 0.f, dy[i], 0.f);  // Note [bit selects]
      }
  });
}

}  // namespace

// After oneDNN's primitive, in place: + residual and the ReLU in one pass of the AddRelu
// kernel, or the Add or Relu kernel alone; the unfused plan's own kernels, so that fused and
// unfused plans agree exactly (Note [batch norm + add + relu]).
static Status finish_forward(CpuBackend* backend, float* y, const float* residual, const BatchNormParams& p) {
  const int64_t n = p.rows * p.c;
  if (residual && p.relu) return backend->add_relu(y, y, residual, n);
  if (residual) {
    BroadcastParams same;
    CN_RETURN_IF_ERROR(make_broadcast_params(&same, {n}, {n}));
    return backend->binary(y, y, residual, DType::kFloat32, BinaryOp::kAdd, same);
  }
  if (p.relu) return backend->unary(y, y, n, UnaryOp::kRelu, 0.f);
  return Status::ok();
}

Status CpuBackend::batchnorm_forward_training(float* y, float* batch_mean, float* batch_var,
                                              const float* x, const float* gamma,
                                              const float* beta, const float* residual,
                                              const BatchNormParams& p) {
  CN_RETURN_IF_ERROR(validate("batchnorm_forward_training", p));
  if (p.c == 0) return Status::ok();
  if (p.rows == 0) {  // no samples: report zero statistics
    zero(batch_mean, p.c);
    zero(batch_var, p.c);
    return Status::ok();
  }
  return cpu::dnnl_guard("batchnorm_forward_training", [&] { return bn_shapes(p); }, [&] {
    cpu::run_primitive(*forward_primitive(p, true, gamma != nullptr, beta != nullptr),
                       {{DNNL_ARG_SRC, x}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta},
                        {DNNL_ARG_MEAN, batch_mean}, {DNNL_ARG_VARIANCE, batch_var},
                        {DNNL_ARG_DST, y}});
    return finish_forward(this, y, residual, p);
  });
}

Status CpuBackend::batchnorm_forward_inference(float* y, const float* x, const float* gamma,
                                               const float* beta, const float* mean,
                                               const float* var, const float* residual,
                                               const BatchNormParams& p) {
  CN_RETURN_IF_ERROR(validate("batchnorm_forward_inference", p));
  if (p.c == 0 || p.rows == 0) return Status::ok();
  return cpu::dnnl_guard("batchnorm_forward_inference", [&] { return bn_shapes(p); }, [&] {
    cpu::run_primitive(*forward_primitive(p, false, gamma != nullptr, beta != nullptr),
                       {{DNNL_ARG_SRC, x}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta},
                        {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DST, y}});
    return finish_forward(this, y, residual, p);
  });
}

Status CpuBackend::batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,
                                      const float* x, const float* gamma, const float* beta,
                                      const float* batch_mean, const float* batch_var,
                                      const BatchNormParams& p) {
  CN_RETURN_IF_ERROR(validate("batchnorm_backward", p));
  if (p.c == 0) return Status::ok();
  if (p.rows == 0) {
    zero(dgamma, p.c);
    zero(dbeta, p.c);
    return Status::ok();
  }
  return cpu::dnnl_guard("batchnorm_backward", [&] { return bn_shapes(p); }, [&] {
    if (p.relu) {
      float* masked = static_cast<float*>(cpu::thread_scratch(cpu::kMaskedGradSlot, sizeof(float) * p.rows * p.c));
      mask_relu_grad(masked, dy, x, gamma, beta, batch_mean, batch_var, p);
      dy = masked;
    }
    // The backward always uses scale and shift: a missing gamma is a vector of ones (and
    // also serves as the unused shift), and unwanted dgamma/dbeta go to scratch.
    float* ones = static_cast<float*>(cpu::thread_scratch(cpu::kTempSlot, sizeof(float) * p.c));
    for (int64_t i = 0; i < p.c; ++i) ones[i] = 1.0f;
    if (gamma == nullptr) gamma = ones;
    if (dgamma == nullptr || dbeta == nullptr) {
      float* sink = static_cast<float*>(cpu::thread_scratch(cpu::kWorkspaceSlot, 2 * sizeof(float) * p.c));
      if (dgamma == nullptr) dgamma = sink;
      if (dbeta == nullptr) dbeta = sink + p.c;
    }
    cpu::run_primitive(*backward_primitive(p),
                       {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_SCALE, gamma},
                        {DNNL_ARG_SHIFT, ones}, {DNNL_ARG_MEAN, batch_mean}, {DNNL_ARG_VARIANCE, batch_var},
                        {DNNL_ARG_DIFF_SRC, dx}, {DNNL_ARG_DIFF_SCALE, dgamma},
                        {DNNL_ARG_DIFF_SHIFT, dbeta}});
    return Status::ok();
  });
}

}  // namespace cn
