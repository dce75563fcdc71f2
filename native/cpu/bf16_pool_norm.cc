// CpuReducedPrecision, part 3: max / average pooling (forward and backward) and batch
// normalization on bf16 data with oneDNN 2.6, with its fused relu / residual forms. Batch norm reads and writes bf16 x / y
// (dy / dx) while its scale, shift, mean, variance and their gradients stay float32, which
// oneDNN's batch normalization does by itself (it keeps statistics in f32 for any data type).
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bf16_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::normalization_flags;
using dnnl::prop_kind;
using cpu::CachedPrimitive;
using cpu::dnnl_type;
using Tag = memory::format_tag;

std::string pool_shapes(const Pool2DParams& p) {
  return std::string(p.kind == PoolKind::kMax ? "max" : "avg") + " x=" + shape_str(p.input_shape()) +
         " y=" + shape_str(p.output_shape());
}

memory::desc in_md(const Pool2DParams& p, DType t) { return memory::desc({p.n, p.c, p.in_h, p.in_w}, dnnl_type(t), Tag::nhwc); }
memory::desc out_md(const Pool2DParams& p, DType t) { return memory::desc({p.n, p.c, p.out_h, p.out_w}, dnnl_type(t), Tag::nhwc); }

algorithm pool_algorithm(const Pool2DParams& p) {
  return p.kind == PoolKind::kMax ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
}

std::string pool_key(const char* op, const Pool2DParams& p, DType t) {
  return cpu::cache_key(op, (int)p.kind, p.n, p.in_h, p.in_w, p.c, p.k_h, p.k_w, p.stride_h, p.stride_w,
                        p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, p.out_h, p.out_w, (int)t);
}

dnnl::pooling_forward::primitive_desc pool_fwd_pd(const Pool2DParams& p, DType t, prop_kind prop) {
  auto desc = CN_DNNL(dnnl::pooling_forward::desc(prop, pool_algorithm(p), in_md(p, t), out_md(p, t),
                                                  {p.stride_h, p.stride_w}, {p.k_h, p.k_w}, {p.pad_top, p.pad_left},
                                                  {p.pad_bottom, p.pad_right}));
  return CN_DNNL(dnnl::pooling_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
}

std::shared_ptr<const CachedPrimitive> pool_forward_primitive(const Pool2DParams& p, DType t, bool training) {
  return cpu::cached_primitive(pool_key(training ? "rp_pool_fwd_train" : "rp_pool_fwd", p, t), [&] {
    auto pd = pool_fwd_pd(p, t, training ? prop_kind::forward_training : prop_kind::forward_inference);
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::pooling_forward(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, in_md(p, t), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_DST, out_md(p, t), pd.dst_desc(), true);
    if (training) cp->add_operand(DNNL_ARG_WORKSPACE, pd.workspace_desc(), pd.workspace_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

std::shared_ptr<const CachedPrimitive> pool_backward_primitive(const Pool2DParams& p, DType t) {
  return cpu::cached_primitive(pool_key("rp_pool_bwd", p, t), [&] {
    auto hint = pool_fwd_pd(p, t, prop_kind::forward_training);
    auto desc = CN_DNNL(dnnl::pooling_backward::desc(pool_algorithm(p), in_md(p, t), out_md(p, t),
                                                     {p.stride_h, p.stride_w}, {p.k_h, p.k_w},
                                                     {p.pad_top, p.pad_left}, {p.pad_bottom, p.pad_right}));
    auto pd = CN_DNNL(dnnl::pooling_backward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::pooling_backward(pd)), pd);
    cp->add_operand(DNNL_ARG_DIFF_DST, out_md(p, t), pd.diff_dst_desc(), false);
    if (p.kind == PoolKind::kMax) cp->add_operand(DNNL_ARG_WORKSPACE, hint.workspace_desc(), hint.workspace_desc(), false);
    cp->add_operand(DNNL_ARG_DIFF_SRC, in_md(p, t), pd.diff_src_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

// ---- batch norm ([rows, c] as NHWC {rows, c, 1, 1}: Note [batchnorm as 4D] in batchnorm.cc)
std::string bn_shapes(const BatchNormParams& p) {
  return "x=[" + std::to_string(p.rows) + "," + std::to_string(p.c) + "]";
}
memory::desc data_md(const BatchNormParams& p, DType t) { return memory::desc({p.rows, p.c, 1, 1}, dnnl_type(t), Tag::nhwc); }
memory::desc channel_md(const BatchNormParams& p) { return memory::desc({p.c}, memory::data_type::f32, Tag::x); }

std::string bn_key(const char* op, const BatchNormParams& p, DType t) {
  uint32_t eps_bits;
  std::memcpy(&eps_bits, &p.epsilon, sizeof eps_bits);
  return cpu::cache_key(op, p.rows, p.c, eps_bits, (int)t);
}

const normalization_flags kScaleShift = normalization_flags::use_scale | normalization_flags::use_shift;

dnnl::batch_normalization_forward::primitive_desc bn_fwd_pd(const BatchNormParams& p, DType t, prop_kind prop,
                                                            normalization_flags flags) {
  auto desc = CN_DNNL(dnnl::batch_normalization_forward::desc(prop, data_md(p, t), p.epsilon, flags));
  return CN_DNNL(dnnl::batch_normalization_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
}

// Scale (ones) and shift (zeros) for absent gamma / beta, in this thread's scratch.
void defaults(const BatchNormParams& p, const float** gamma, const float** beta) {
  float* buf = static_cast<float*>(cpu::thread_scratch(cpu::kTempSlot, 2 * sizeof(float) * p.c));
  for (int64_t i = 0; i < p.c; ++i) buf[i] = 1.f, buf[p.c + i] = 0.f;
  if (!*gamma) *gamma = buf;
  if (beta && !*beta) *beta = buf + p.c;
}

const normalization_flags kScaleShiftRelu = kScaleShift | normalization_flags::fuse_norm_relu;

// The backward primitive on x, dy, dx of dtype t; with relu, the fuse_norm_relu form, which
// also reads the training forward's workspace (Note [bf16 batch norm + relu]).
std::shared_ptr<const CachedPrimitive> bn_backward_primitive(const BatchNormParams& p, DType t, bool relu) {
  return cpu::cached_primitive(bn_key(relu ? "rp_bn_relu_bwd" : "rp_bn_bwd", p, t), [&] {
    const normalization_flags flags = relu ? kScaleShiftRelu : kScaleShift;
    auto hint = bn_fwd_pd(p, t, prop_kind::forward_training, flags);
    auto desc = CN_DNNL(dnnl::batch_normalization_backward::desc(prop_kind::backward, data_md(p, t), data_md(p, t), p.epsilon, flags));
    auto pd = CN_DNNL(dnnl::batch_normalization_backward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine(), hint));
    auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::batch_normalization_backward(pd)), pd);
    c->add_operand(DNNL_ARG_SRC, data_md(p, t), pd.src_desc(), false);
    c->add_operand(DNNL_ARG_DIFF_DST, data_md(p, t), pd.diff_dst_desc(), false);
    c->add_operand(DNNL_ARG_SCALE, channel_md(p), channel_md(p), false);
    c->add_operand(DNNL_ARG_SHIFT, channel_md(p), channel_md(p), false);
    c->add_operand(DNNL_ARG_MEAN, channel_md(p), pd.mean_desc(), false);
    c->add_operand(DNNL_ARG_VARIANCE, channel_md(p), pd.variance_desc(), false);
    if (relu) c->add_operand(DNNL_ARG_WORKSPACE, pd.workspace_desc(), pd.workspace_desc(), false);
    c->add_operand(DNNL_ARG_DIFF_SRC, data_md(p, t), pd.diff_src_desc(), true);
    c->add_operand(DNNL_ARG_DIFF_SCALE, channel_md(p), channel_md(p), true);
    c->add_operand(DNNL_ARG_DIFF_SHIFT, channel_md(p), channel_md(p), true);
    return std::shared_ptr<const CachedPrimitive>(c);
  });
}

// The plain entry points take p.relu false; the fused ones (below) take either.
Status validate(const char* op, const BatchNormParams& p, bool relu_allowed = false) {
  if (p.rows < 0 || p.c < 0 || !(p.epsilon >= 0.0f))
    return invalid_argument(std::string(op) + ": inconsistent parameters " + bn_shapes(p));
  if (p.relu && !relu_allowed) return invalid_argument(std::string(op) + ": the relu form has its own entry point");
  return Status::ok();
}

// Note [bf16 batch norm off the jit kernels]: oneDNN 2.6's bf16 batch normalization has a jit
// kernel only for channel counts it can vectorize whole (multiples of 16, measured); other
// counts (Xception's 728 channels) get `nspc_bnorm:any`, about 10x slower than the float32 jit
// kernel on the same tensor (5.7 ms against 0.55 ms forward at [8, 10, 10, 728], 5.5 against
// 0.43 backward). There the data goes through float32 instead: widen, run the float32
// primitive, narrow, which keeps the statistics and the result exactly what a float32 batch
// norm of the bf16 values gives, rounded once. The relu forms take the same detour (a relu
// commutes with that rounding, so they stay equal to the unfused kernels); the residual forms
// run the plain batch norm (detour included) and add in bf16, as the unfused kernels do. The
// scratch is float32 per thread and kept, up to three times the largest such tensor.
bool bn_on_jit(const BatchNormParams& p, DType t) {
  if (!is_reduced_precision(t)) return true;
  static std::mutex mu;
  static std::map<std::string, bool> known;
  const std::string key = bn_key("rp_bn_jit", p, t);
  std::lock_guard<std::mutex> lock(mu);
  auto it = known.find(key);
  if (it != known.end()) return it->second;
  bool jit = true;  // if the descriptor fails here, the bf16 path reports it properly
  try {
    auto pd = bn_fwd_pd(p, t, prop_kind::forward_training, kScaleShift);
    jit = std::string(pd.impl_info_str()).find("jit") != std::string::npos;
  } catch (const std::exception&) {
  }
  known.emplace(key, jit);
  return jit;
}

// Float32 scratch for that detour, per thread and slot, kept between calls: fresh buffers
// cost more in page faults (a new mmap per call) than the batch norm itself.
TypedPtr wide_scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[3];
  std::vector<float>& b = buffers[slot];
  if ((int64_t)b.size() < n) b.resize(n);
  return TypedPtr(b.data(), DType::kFloat32);
}

// The detour itself: ins widened into scratch slots 0, 1, ..., f run on float32 pointers (its
// output in the next slot), the output narrowed into out.
template <class F>
Status through_float32(ReducedPrecisionOps& rp, int64_t n, TypedPtr out, std::initializer_list<TypedPtr> ins, F f) {
  std::vector<TypedPtr> wide;
  for (TypedPtr in : ins) {
    wide.push_back(wide_scratch((int)wide.size(), n));
    CN_RETURN_IF_ERROR(rp.cast(wide.back(), in, n));
  }
  TypedPtr wout = wide_scratch((int)wide.size(), n);
  CN_RETURN_IF_ERROR(f(wout, wide));
  return rp.cast(out, wout, n);
}

}  // namespace

Status CpuReducedPrecision::pool2d_forward(TypedPtr y, TypedPtr x, const Pool2DParams& p) {
  if (x.dtype != y.dtype) return invalid_argument("pool2d_forward: x and y dtypes differ");
  if (p.n == 0 || p.c == 0) return Status::ok();
  return cpu::dnnl_guard("pool2d_forward", [&] { return pool_shapes(p); }, [&] {
    cpu::run_primitive(*pool_forward_primitive(p, x.dtype, false), {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::pool2d_backward(TypedPtr dx, TypedPtr dy, TypedPtr x, const Pool2DParams& p) {
  if (x.dtype != dy.dtype || dx.dtype != dy.dtype) return invalid_argument("pool2d_backward: x, dy and dx dtypes differ");
  if (p.n == 0 || p.c == 0) return Status::ok();
  return cpu::dnnl_guard("pool2d_backward", [&] { return pool_shapes(p); }, [&] {
    auto bwd = pool_backward_primitive(p, dy.dtype);
    if (p.kind == PoolKind::kAvg) {
      cpu::run_primitive(*bwd, {{DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_DIFF_SRC, dx.data}});
      return Status::ok();
    }
    // Max pooling: rerun the training forward for its argmax workspace (as pool.cc does).
    auto fwd = pool_forward_primitive(p, x.dtype, true);
    void* ws = cpu::thread_scratch(cpu::kWorkspaceSlot, fwd->find(DNNL_ARG_WORKSPACE)->user_md.get_size());
    void* y = cpu::thread_scratch(cpu::kTempSlot, fwd->find(DNNL_ARG_DST)->user_md.get_size());
    cpu::run_primitive(*fwd, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DST, y}, {DNNL_ARG_WORKSPACE, ws}});
    cpu::run_primitive(*bwd, {{DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_DIFF_SRC, dx.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::batchnorm_forward_training(TypedPtr y, float* mean, float* var, TypedPtr x,
                                                       const float* gamma, const float* beta,
                                                       const BatchNormParams& p) {
  CN_RETURN_IF_ERROR(validate("batchnorm_forward_training", p));
  if (x.dtype != y.dtype) return invalid_argument("batchnorm_forward_training: x and y dtypes differ");
  if (p.c == 0) return Status::ok();
  if (p.rows == 0) {
    std::memset(mean, 0, sizeof(float) * p.c);
    std::memset(var, 0, sizeof(float) * p.c);
    return Status::ok();
  }
  if (!bn_on_jit(p, x.dtype)) {  // Note [bf16 batch norm off the jit kernels]
    return through_float32(*this, p.rows * p.c, y, {x}, [&](TypedPtr wy, const std::vector<TypedPtr>& w) {
      return batchnorm_forward_training(wy, mean, var, w[0], gamma, beta, p);
    });
  }
  return cpu::dnnl_guard("batchnorm_forward_training", [&] { return bn_shapes(p); }, [&] {
    defaults(p, &gamma, &beta);
    auto cp = cpu::cached_primitive(bn_key("rp_bn_fwd_train", p, x.dtype), [&] {
      auto pd = bn_fwd_pd(p, x.dtype, prop_kind::forward_training, kScaleShift);
      auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::batch_normalization_forward(pd)), pd);
      c->add_operand(DNNL_ARG_SRC, data_md(p, x.dtype), pd.src_desc(), false);
      c->add_operand(DNNL_ARG_SCALE, channel_md(p), channel_md(p), false);
      c->add_operand(DNNL_ARG_SHIFT, channel_md(p), channel_md(p), false);
      c->add_operand(DNNL_ARG_MEAN, channel_md(p), pd.mean_desc(), true);
      c->add_operand(DNNL_ARG_VARIANCE, channel_md(p), pd.variance_desc(), true);
      c->add_operand(DNNL_ARG_DST, data_md(p, y.dtype), pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(c);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta},
                             {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::batchnorm_forward_inference(TypedPtr y, TypedPtr x, const float* gamma,
                                                        const float* beta, const float* mean, const float* var,
                                                        const BatchNormParams& p) {
  CN_RETURN_IF_ERROR(validate("batchnorm_forward_inference", p));
  if (x.dtype != y.dtype) return invalid_argument("batchnorm_forward_inference: x and y dtypes differ");
  if (p.c == 0 || p.rows == 0) return Status::ok();
  if (!bn_on_jit(p, x.dtype)) {  // Note [bf16 batch norm off the jit kernels]
    return through_float32(*this, p.rows * p.c, y, {x}, [&](TypedPtr wy, const std::vector<TypedPtr>& w) {
      return batchnorm_forward_inference(wy, w[0], gamma, beta, mean, var, p);
    });
  }
  return cpu::dnnl_guard("batchnorm_forward_inference", [&] { return bn_shapes(p); }, [&] {
    defaults(p, &gamma, &beta);
    auto cp = cpu::cached_primitive(bn_key("rp_bn_fwd_infer", p, x.dtype), [&] {
      auto pd = bn_fwd_pd(p, x.dtype, prop_kind::forward_inference, kScaleShift | normalization_flags::use_global_stats);
      auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::batch_normalization_forward(pd)), pd);
      c->add_operand(DNNL_ARG_SRC, data_md(p, x.dtype), pd.src_desc(), false);
      c->add_operand(DNNL_ARG_SCALE, channel_md(p), channel_md(p), false);
      c->add_operand(DNNL_ARG_SHIFT, channel_md(p), channel_md(p), false);
      c->add_operand(DNNL_ARG_MEAN, channel_md(p), pd.mean_desc(), false);
      c->add_operand(DNNL_ARG_VARIANCE, channel_md(p), pd.variance_desc(), false);
      c->add_operand(DNNL_ARG_DST, data_md(p, y.dtype), pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(c);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta},
                             {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::batchnorm_backward(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                                               const float* gamma, const float* mean, const float* var,
                                               const BatchNormParams& p) {
  CN_RETURN_IF_ERROR(validate("batchnorm_backward", p));
  if (x.dtype != dy.dtype || dx.dtype != dy.dtype) return invalid_argument("batchnorm_backward: x, dy and dx dtypes differ");
  if (p.c == 0) return Status::ok();
  if (p.rows == 0) {
    std::memset(dgamma, 0, sizeof(float) * p.c);
    std::memset(dbeta, 0, sizeof(float) * p.c);
    return Status::ok();
  }
  if (!bn_on_jit(p, x.dtype)) {  // Note [bf16 batch norm off the jit kernels]
    return through_float32(*this, p.rows * p.c, dx, {x, dy}, [&](TypedPtr wdx, const std::vector<TypedPtr>& w) {
      return batchnorm_backward(wdx, dgamma, dbeta, w[1], w[0], gamma, mean, var, p);
    });
  }
  return cpu::dnnl_guard("batchnorm_backward", [&] { return bn_shapes(p); }, [&] {
    const float* shift = nullptr;
    defaults(p, &gamma, &shift);
    auto cp = bn_backward_primitive(p, x.dtype, false);
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_SCALE, gamma},
                             {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var},
                             {DNNL_ARG_DIFF_SRC, dx.data}, {DNNL_ARG_DIFF_SCALE, dgamma},
                             {DNNL_ARG_DIFF_SHIFT, dbeta}});
    return Status::ok();
  });
}

// ---- batch norm's fused forms (Note [batch norm + relu], Note [batch norm + add + relu] in
// core/params.h).
//
// Note [bf16 batch norm + relu]: oneDNN 2.6's bf16 batch normalization takes the relu as
// its fuse_norm_relu flag: the forward writes relu(y) itself (training: and a relu mask in
// its workspace), and the backward masks dy with that workspace. Our backward gets x and the
// statistics, not the forward's workspace, so it reruns the training forward (same cached
// primitive, same x: the same statistics and mask, bit for bit) into scratch first. oneDNN
// 2.6 has no batch norm + add fusion (fuse_norm_add_relu came later), so a residual is added
// by one binary primitive after the batch norm, with the relu as its post-op, in place: two
// bf16 roundings (the normalized x, then the sum), as the unfused BatchNorm, Add and Relu.
namespace {


std::shared_ptr<const CachedPrimitive> bn_relu_forward_primitive(const BatchNormParams& p, DType t, bool training) {
  return cpu::cached_primitive(bn_key(training ? "rp_bn_relu_fwd_train" : "rp_bn_relu_fwd_infer", p, t), [&] {
    auto flags = training ? kScaleShiftRelu : kScaleShiftRelu | normalization_flags::use_global_stats;
    auto pd = bn_fwd_pd(p, t, training ? prop_kind::forward_training : prop_kind::forward_inference, flags);
    auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::batch_normalization_forward(pd)), pd);
    c->add_operand(DNNL_ARG_SRC, data_md(p, t), pd.src_desc(), false);
    c->add_operand(DNNL_ARG_SCALE, channel_md(p), channel_md(p), false);
    c->add_operand(DNNL_ARG_SHIFT, channel_md(p), channel_md(p), false);
    c->add_operand(DNNL_ARG_MEAN, channel_md(p), pd.mean_desc(), training);
    c->add_operand(DNNL_ARG_VARIANCE, channel_md(p), pd.variance_desc(), training);
    c->add_operand(DNNL_ARG_DST, data_md(p, t), pd.dst_desc(), true);
    if (training) c->add_operand(DNNL_ARG_WORKSPACE, pd.workspace_desc(), pd.workspace_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(c);
  });
}

// y = relu?(y + residual), in place, on one binary primitive (residual of y's type or f32).
Status add_residual(TypedPtr y, TypedPtr residual, const BatchNormParams& p) {
  const int64_t n = p.rows * p.c;
  auto cp = cpu::cached_primitive(cpu::cache_key("rp_bn_residual", n, (int)y.dtype, (int)residual.dtype, (int)p.relu), [&] {
    memory::desc ym({n}, dnnl_type(y.dtype), Tag::a), rm({n}, dnnl_type(residual.dtype), Tag::a);
    dnnl::primitive_attr attr = cpu::default_attr();
    if (p.relu) {
      dnnl::post_ops ops;
      CN_DNNL(ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f));
      CN_DNNL(attr.set_post_ops(ops));
    }
    auto desc = CN_DNNL(dnnl::binary::desc(algorithm::binary_add, ym, rm, ym));
    auto pd = CN_DNNL(dnnl::binary::primitive_desc(desc, attr, cpu::cpu_engine()));
    auto c = cpu::new_cached_primitive(CN_DNNL(dnnl::binary(pd)), pd);
    c->add_operand(DNNL_ARG_SRC_0, ym, pd.src0_desc(), false);
    c->add_operand(DNNL_ARG_SRC_1, rm, pd.src1_desc(), false);
    c->add_operand(DNNL_ARG_DST, ym, pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(c);
  });
  cpu::run_primitive(*cp, {{DNNL_ARG_SRC_0, y.data}, {DNNL_ARG_SRC_1, residual.data}, {DNNL_ARG_DST, y.data}});
  return Status::ok();
}

Status check_residual(const char* op, TypedPtr y, TypedPtr residual) {
  if (residual && residual.dtype != y.dtype && residual.dtype != DType::kFloat32)
    return invalid_argument(std::string(op) + ": expected residual of dtype " + dtype_name(y.dtype) + " or float32 but received " +
                            dtype_name(residual.dtype));
  return Status::ok();
}

}  // namespace

Status CpuReducedPrecision::batchnorm_forward_training_fused(TypedPtr y, float* mean, float* var, TypedPtr x,
                                                             const float* gamma, const float* beta, TypedPtr residual,
                                                             const BatchNormParams& p) {
  const char* op = "batchnorm_forward_training";
  CN_RETURN_IF_ERROR(validate(op, p, true));
  CN_RETURN_IF_ERROR(check_residual(op, y, residual));
  // The residual forms run the plain batch norm below (which takes the detour itself) and
  // add in bf16, so they round where the unfused kernels do.
  if (p.relu && !residual && !bn_on_jit(p, x.dtype) && x.dtype == y.dtype) {  // Note [bf16 batch norm off the jit kernels]
    return through_float32(*this, p.rows * p.c, y, {x}, [&](TypedPtr wy, const std::vector<TypedPtr>& w) {
      return batchnorm_forward_training_fused(wy, mean, var, w[0], gamma, beta, TypedPtr(), p);
    });
  }
  BatchNormParams plain = p;
  plain.relu = false;
  if (!p.relu || residual) {
    CN_RETURN_IF_ERROR(batchnorm_forward_training(y, mean, var, x, gamma, beta, plain));
    if (!residual && !p.relu) return Status::ok();
    if (p.c == 0 || p.rows == 0) return Status::ok();
    return cpu::dnnl_guard(op, [&] { return bn_shapes(p); }, [&] { return add_residual(y, residual, p); });
  }
  if (x.dtype != y.dtype) return invalid_argument(std::string(op) + ": x and y dtypes differ");
  if (p.c == 0 || p.rows == 0) return batchnorm_forward_training(y, mean, var, x, gamma, beta, plain);
  return cpu::dnnl_guard(op, [&] { return bn_shapes(p) + " relu"; }, [&] {
    defaults(p, &gamma, &beta);
    auto cp = bn_relu_forward_primitive(p, x.dtype, true);
    void* ws = cpu::thread_scratch(cpu::kWorkspaceSlot, cp->find(DNNL_ARG_WORKSPACE)->user_md.get_size());
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_MEAN, mean},
                             {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DST, y.data}, {DNNL_ARG_WORKSPACE, ws}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::batchnorm_forward_inference_fused(TypedPtr y, TypedPtr x, const float* gamma,
                                                              const float* beta, const float* mean, const float* var,
                                                              TypedPtr residual, const BatchNormParams& p) {
  const char* op = "batchnorm_forward_inference";
  CN_RETURN_IF_ERROR(validate(op, p, true));
  CN_RETURN_IF_ERROR(check_residual(op, y, residual));
  // The residual forms run the plain batch norm below (which takes the detour itself) and
  // add in bf16, so they round where the unfused kernels do.
  if (p.relu && !residual && !bn_on_jit(p, x.dtype) && x.dtype == y.dtype) {  // Note [bf16 batch norm off the jit kernels]
    return through_float32(*this, p.rows * p.c, y, {x}, [&](TypedPtr wy, const std::vector<TypedPtr>& w) {
      return batchnorm_forward_inference_fused(wy, w[0], gamma, beta, mean, var, TypedPtr(), p);
    });
  }
  BatchNormParams plain = p;
  plain.relu = false;
  if (!p.relu || residual) {
    CN_RETURN_IF_ERROR(batchnorm_forward_inference(y, x, gamma, beta, mean, var, plain));
    if ((!residual && !p.relu) || p.c == 0 || p.rows == 0) return Status::ok();
    return cpu::dnnl_guard(op, [&] { return bn_shapes(p); }, [&] { return add_residual(y, residual, p); });
  }
  if (x.dtype != y.dtype) return invalid_argument(std::string(op) + ": x and y dtypes differ");
  if (p.c == 0 || p.rows == 0) return Status::ok();
  return cpu::dnnl_guard(op, [&] { return bn_shapes(p) + " relu"; }, [&] {
    defaults(p, &gamma, &beta);
    cpu::run_primitive(*bn_relu_forward_primitive(p, x.dtype, false),
                       {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_MEAN, mean},
                        {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::batchnorm_backward_relu(TypedPtr dx, float* dgamma, float* dbeta, TypedPtr dy, TypedPtr x,
                                                    const float* gamma, const float* beta, const float* mean,
                                                    const float* var, const BatchNormParams& p) {
  const char* op = "batchnorm_backward";
  CN_RETURN_IF_ERROR(validate(op, p, true));
  if (p.relu && !bn_on_jit(p, x.dtype) && x.dtype == dy.dtype && dx.dtype == dy.dtype) {  // Note [bf16 batch norm off the jit kernels]
    return through_float32(*this, p.rows * p.c, dx, {x, dy}, [&](TypedPtr wdx, const std::vector<TypedPtr>& w) {
      return batchnorm_backward_relu(wdx, dgamma, dbeta, w[1], w[0], gamma, beta, mean, var, p);
    });
  }
  BatchNormParams plain = p;
  plain.relu = false;
  if (!p.relu || p.c == 0 || p.rows == 0) return batchnorm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, var, plain);
  if (x.dtype != dy.dtype || dx.dtype != dy.dtype) return invalid_argument(std::string(op) + ": x, dy and dx dtypes differ");
  return cpu::dnnl_guard(op, [&] { return bn_shapes(p) + " relu"; }, [&] {
    // defaults() keeps gamma / beta in kTempSlot; the rerun's outputs go elsewhere.
    defaults(p, &gamma, &beta);
    auto fwd = bn_relu_forward_primitive(p, x.dtype, true);
    void* ws = cpu::thread_scratch(cpu::kWorkspaceSlot, fwd->find(DNNL_ARG_WORKSPACE)->user_md.get_size());
    void* y = cpu::thread_scratch(cpu::kMaskedGradSlot, fwd->find(DNNL_ARG_DST)->user_md.get_size() + 2 * sizeof(float) * p.c);
    float* stats = reinterpret_cast<float*>(static_cast<char*>(y) + fwd->find(DNNL_ARG_DST)->user_md.get_size());
    cpu::run_primitive(*fwd, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_SCALE, gamma}, {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_MEAN, stats},
                              {DNNL_ARG_VARIANCE, stats + p.c}, {DNNL_ARG_DST, y}, {DNNL_ARG_WORKSPACE, ws}});
    auto bwd = bn_backward_primitive(p, x.dtype, true);
    cpu::run_primitive(*bwd, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_SCALE, gamma},
                              {DNNL_ARG_SHIFT, beta}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, var},
                              {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_DIFF_SRC, dx.data}, {DNNL_ARG_DIFF_SCALE, dgamma},
                              {DNNL_ARG_DIFF_SHIFT, dbeta}});
    return Status::ok();
  });
}

}  // namespace cn
