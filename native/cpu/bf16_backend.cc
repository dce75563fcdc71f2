// CpuReducedPrecision, part 1: the ISA oneDNN dispatches to, casts (reorders, round to
// nearest even), eltwise forward / backward, binary arithmetic and softmax on bf16 data.
#include "bf16_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using cpu::CachedPrimitive;
using cpu::dnnl_type;

CpuReducedPrecision& instance() {
  static CpuReducedPrecision rp;
  return rp;
}

// A flat [n] tensor (oneDNN eltwise and reorders work on any dense layout alike).
memory::desc flat_md(int64_t n, DType t) { return memory::desc({n}, dnnl_type(t), memory::format_tag::a); }

std::string n_shapes(int64_t n) { return "n=" + std::to_string(n); }

// oneDNN's eltwise algorithm (and alpha, beta) for a UnaryOp; false where it has none.
bool eltwise_of(UnaryOp op, float alpha, algorithm* alg, float* a, float* b) {
  *a = 0.f;
  *b = 0.f;
  switch (op) {
    case UnaryOp::kRelu: *alg = algorithm::eltwise_relu; return true;
    case UnaryOp::kSigmoid: *alg = algorithm::eltwise_logistic; return true;
    case UnaryOp::kTanh: *alg = algorithm::eltwise_tanh; return true;
    case UnaryOp::kExp: *alg = algorithm::eltwise_exp; return true;
    case UnaryOp::kLog: *alg = algorithm::eltwise_log; return true;
    case UnaryOp::kSqrt: *alg = algorithm::eltwise_sqrt; return true;
    case UnaryOp::kSquare: *alg = algorithm::eltwise_square; return true;
    case UnaryOp::kAbs: *alg = algorithm::eltwise_abs; return true;
    case UnaryOp::kNeg: *alg = algorithm::eltwise_linear; *a = -1.f; return true;
    case UnaryOp::kElu: *alg = algorithm::eltwise_elu; *a = alpha; return true;
    case UnaryOp::kRelu6: *alg = algorithm::eltwise_clip_v2; *a = 0.f; *b = 6.f; return true;
    case UnaryOp::kSoftplus: *alg = algorithm::eltwise_soft_relu; return true;
    case UnaryOp::kRound: *alg = algorithm::eltwise_round; return true;
    default: return false;
  }
}

// Backward algorithms that read the forward output y (ref), as the Backend contract says.
bool eltwise_grad_of(UnaryGradOp op, float alpha, algorithm* alg, float* a, float* b) {
  *a = 0.f;
  *b = 0.f;
  switch (op) {
    case UnaryGradOp::kRelu: *alg = algorithm::eltwise_relu_use_dst_for_bwd; return true;
    case UnaryGradOp::kSigmoid: *alg = algorithm::eltwise_logistic_use_dst_for_bwd; return true;
    case UnaryGradOp::kTanh: *alg = algorithm::eltwise_tanh_use_dst_for_bwd; return true;
    case UnaryGradOp::kElu: *alg = algorithm::eltwise_elu_use_dst_for_bwd; *a = alpha; return true;
    case UnaryGradOp::kRelu6: *alg = algorithm::eltwise_clip_v2_use_dst_for_bwd; *b = 6.f; return true;
    default: return false;
  }
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

dnnl::eltwise_forward::primitive_desc eltwise_fwd_pd(int64_t n, DType t, algorithm alg, float a, float b) {
  auto desc = CN_DNNL(dnnl::eltwise_forward::desc(prop_kind::forward_training, alg, flat_md(n, t), a, b));
  return CN_DNNL(dnnl::eltwise_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
}

// Binary shapes aligned to one rank (leading 1s), as oneDNN wants.
memory::dims aligned(const Shape& s, size_t rank) {
  memory::dims d(rank - s.size(), 1);
  for (int64_t v : s) d.push_back(v);
  if (d.empty()) d.push_back(1);
  return d;
}

bool binary_algorithm(BinaryOp op, algorithm* alg) {
  switch (op) {
    case BinaryOp::kAdd: *alg = algorithm::binary_add; return true;
    case BinaryOp::kSub: *alg = algorithm::binary_sub; return true;
    case BinaryOp::kMul: *alg = algorithm::binary_mul; return true;
    case BinaryOp::kDiv: *alg = algorithm::binary_div; return true;
    case BinaryOp::kMaximum: *alg = algorithm::binary_max; return true;
    case BinaryOp::kMinimum: *alg = algorithm::binary_min; return true;
    default: return false;
  }
}

// Dense row-major strides for dims.
memory::dims dense_strides(const memory::dims& d) {
  memory::dims s(d.size(), 1);
  for (int i = (int)d.size() - 2; i >= 0; --i) s[i] = s[i + 1] * d[i + 1];
  return s;
}

}  // namespace

namespace cpu {
memory::data_type dnnl_type(DType d) {
  switch (d) {
    case DType::kFloat32: return memory::data_type::f32;
    case DType::kBFloat16: return memory::data_type::bf16;
    case DType::kFloat16: return memory::data_type::f16;
    case DType::kInt32: return memory::data_type::s32;
    case DType::kUint8: return memory::data_type::u8;
  }
  return memory::data_type::undef;
}
}  // namespace cpu

ReducedPrecisionOps* CpuBackend::reduced_precision() { return &instance(); }

std::string CpuReducedPrecision::isa() const {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "isa_" + std::to_string((int)dnnl::get_effective_cpu_isa());
  }
}

// Note [bf16 below AVX-512]: oneDNN 2.6 implements bf16 primitives (even its reference
// ones) only where the CPU has AVX-512 (avx512_core and up; it emulates the bf16
// instructions there). With ONEDNN_MAX_CPU_ISA=AVX2, or on an AVX2 CPU, every bf16 primitive
// is 'unimplemented', so bf16 is then storage and casts only, and compute ops refuse it
// with ERR_NOT_SUPPORTED at the dispatch (test/bf16.test.ts runs under both settings).
bool CpuReducedPrecision::computes(DType dtype) const {
  if (dtype != DType::kBFloat16) return false;
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

bool CpuReducedPrecision::native_bf16() const {
  auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

// Note [bf16 cast by hand]: oneDNN's f32 -> bf16 reorder runs vcvtneps2bf16 on CPUs with
// AVX512_BF16, which treats subnormal float32 inputs as zero; TensorFlow keeps them (as
// bf16 subnormals). The f32 <-> bf16 casts are therefore TensorFlow's own bit formula
// (round to nearest even, NaN kept quiet with its sign), in a loop the compiler vectorizes;
// bit-exact with tf.cast, subnormals included (test/bf16.test.ts). f32 <-> float16 goes
// through the compiler's _Float16 conversions (IEEE round to nearest even, F16C where the
// target has it), since oneDNN 2.6's f16 reorder drops the sign of negative zero.
static inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);  // NaN: quiet
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
static inline float bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

Status CpuReducedPrecision::cast(TypedPtr out, TypedPtr in, int64_t n) {
  if (n <= 0) return Status::ok();
  if (in.dtype == DType::kFloat32 && out.dtype == DType::kBFloat16) {
    const float* src = static_cast<const float*>(in.data);
    uint16_t* dst = static_cast<uint16_t*>(out.data);
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
    return Status::ok();
  }
  if (in.dtype == DType::kBFloat16 && out.dtype == DType::kFloat32) {
    const uint16_t* src = static_cast<const uint16_t*>(in.data);
    float* dst = static_cast<float*>(out.data);
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
    return Status::ok();
  }
  if (in.dtype == DType::kFloat32 && out.dtype == DType::kFloat16) {
    const float* src = static_cast<const float*>(in.data);
    _Float16* dst = static_cast<_Float16*>(out.data);
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dst[i] = (_Float16)src[i];
    return Status::ok();
  }
  if (in.dtype == DType::kFloat16 && out.dtype == DType::kFloat32) {
    const _Float16* src = static_cast<const _Float16*>(in.data);
    float* dst = static_cast<float*>(out.data);
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dst[i] = (float)src[i];
    return Status::ok();
  }
  return cpu::dnnl_guard("cast", [&] { return n_shapes(n) + " " + dtype_name(in.dtype) + "->" + dtype_name(out.dtype); }, [&] {
    auto cp = cpu::cached_primitive(cpu::cache_key("rp_cast", n, (int)in.dtype, (int)out.dtype), [&] {
      memory::desc src = flat_md(n, in.dtype), dst = flat_md(n, out.dtype);
      auto pd = CN_DNNL(dnnl::reorder::primitive_desc(cpu::cpu_engine(), src, cpu::cpu_engine(), dst, cpu::default_attr()));
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::reorder(pd)), pd);
      p->add_operand(DNNL_ARG_FROM, src, src, false);
      p->add_operand(DNNL_ARG_TO, dst, dst, true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_FROM, in.data}, {DNNL_ARG_TO, out.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::unary(TypedPtr y, TypedPtr x, int64_t n, UnaryOp op, float alpha) {
  algorithm alg;
  float a, b;
  if (!eltwise_of(op, alpha, &alg, &a, &b))
    return not_supported("unary: this op has no " + std::string(dtype_name(x.dtype)) + " kernel on the cpu backend");
  if (x.dtype != y.dtype) return invalid_argument("unary: x and y dtypes differ");
  if (n <= 0) return Status::ok();
  return cpu::dnnl_guard("unary", [&] { return n_shapes(n); }, [&] {
    auto cp = cpu::cached_primitive(cpu::cache_key("rp_eltwise", n, (int)x.dtype, (int)alg, bits(a), bits(b)), [&] {
      auto pd = eltwise_fwd_pd(n, x.dtype, alg, a, b);
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::eltwise_forward(pd)), pd);
      p->add_operand(DNNL_ARG_SRC, flat_md(n, x.dtype), pd.src_desc(), false);
      p->add_operand(DNNL_ARG_DST, flat_md(n, x.dtype), pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::unary_grad(TypedPtr dx, TypedPtr dy, TypedPtr ref, int64_t n,
                                       UnaryGradOp op, float alpha) {
  algorithm alg;
  float a, b;
  if (!eltwise_grad_of(op, alpha, &alg, &a, &b))
    return not_supported("unaryGrad: this op has no " + std::string(dtype_name(dy.dtype)) + " kernel on the cpu backend");
  if (dx.dtype != dy.dtype || ref.dtype != dy.dtype) return invalid_argument("unaryGrad: dy, y and dx dtypes differ");
  if (n <= 0) return Status::ok();
  return cpu::dnnl_guard("unary_grad", [&] { return n_shapes(n); }, [&] {
    auto cp = cpu::cached_primitive(cpu::cache_key("rp_eltwise_bwd", n, (int)dy.dtype, (int)alg, bits(a), bits(b)), [&] {
      auto hint = eltwise_fwd_pd(n, dy.dtype, alg, a, b);
      auto desc = CN_DNNL(dnnl::eltwise_backward::desc(alg, flat_md(n, dy.dtype), flat_md(n, dy.dtype), a, b));
      auto pd = CN_DNNL(dnnl::eltwise_backward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine(), hint));
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::eltwise_backward(pd)), pd);
      p->add_operand(DNNL_ARG_DST, flat_md(n, dy.dtype), pd.dst_desc(), false);
      p->add_operand(DNNL_ARG_DIFF_DST, flat_md(n, dy.dtype), pd.diff_dst_desc(), false);
      p->add_operand(DNNL_ARG_DIFF_SRC, flat_md(n, dy.dtype), pd.diff_src_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_DST, ref.data}, {DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_DIFF_SRC, dx.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::binary(TypedPtr out, TypedPtr a, TypedPtr b, BinaryOp op,
                                   const Shape& a_shape, const Shape& b_shape, const Shape& out_shape) {
  algorithm alg;
  if (!binary_algorithm(op, &alg))
    return not_supported("binary: this op has no " + std::string(dtype_name(out.dtype)) + " kernel on the cpu backend");
  // oneDNN 2.6 broadcasts src1 only: src0 must have the output's shape.
  bool swap = false;
  if (a_shape != out_shape) {
    bool commutes = op == BinaryOp::kAdd || op == BinaryOp::kMul || op == BinaryOp::kMaximum || op == BinaryOp::kMinimum;
    if (!commutes || b_shape != out_shape)
      return not_supported("binary: broadcasting the first operand of this op is not supported for " +
                           std::string(dtype_name(out.dtype)) + " (shapes " + shape_str(a_shape) + " and " + shape_str(b_shape) + ")");
    swap = true;
  }
  const TypedPtr& s0 = swap ? b : a;
  const TypedPtr& s1 = swap ? a : b;
  const Shape& sh1 = swap ? a_shape : b_shape;
  int64_t n = num_elements(out_shape);
  if (n == 0) return Status::ok();
  return cpu::dnnl_guard("binary", [&] { return shape_str(a_shape) + " " + shape_str(b_shape); }, [&] {
    size_t rank = std::max<size_t>(1, out_shape.size());
    memory::dims d0 = aligned(out_shape, rank), d1 = aligned(sh1, rank);
    std::string key = cpu::cache_key("rp_binary", (int)alg, (int)s0.dtype, (int)s1.dtype, (int)out.dtype);
    for (auto v : d0) key += std::to_string(v) + "x";
    key += "|";
    for (auto v : d1) key += std::to_string(v) + "x";
    auto cp = cpu::cached_primitive(key, [&] {
      memory::desc m0(d0, dnnl_type(s0.dtype), dense_strides(d0));
      memory::desc m1(d1, dnnl_type(s1.dtype), dense_strides(d1));
      memory::desc md(d0, dnnl_type(out.dtype), dense_strides(d0));
      auto desc = CN_DNNL(dnnl::binary::desc(alg, m0, m1, md));
      auto pd = CN_DNNL(dnnl::binary::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::binary(pd)), pd);
      p->add_operand(DNNL_ARG_SRC_0, m0, pd.src0_desc(), false);
      p->add_operand(DNNL_ARG_SRC_1, m1, pd.src1_desc(), false);
      p->add_operand(DNNL_ARG_DST, md, pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC_0, s0.data}, {DNNL_ARG_SRC_1, s1.data}, {DNNL_ARG_DST, out.data}});
    return Status::ok();
  });
}

// Note [bf16 add + relu]: the plan fusion's residual join in bf16 is oneDNN's binary add
// with the relu as a post-op (one rounding of the sum, then an exact relu), and its gradient
// the binary add of the two gradients followed, in place, by the relu's backward on ref (as
// ReluGrad): the same roundings as the unfused Add, Relu and ReluGrad kernels.
Status CpuReducedPrecision::add_relu(TypedPtr out, TypedPtr a, TypedPtr b, int64_t n) {
  if (a.dtype != b.dtype || out.dtype != a.dtype) return invalid_argument("add_relu: a, b and out dtypes differ");
  if (n <= 0) return Status::ok();
  return cpu::dnnl_guard("add_relu", [&] { return n_shapes(n); }, [&] {
    auto cp = cpu::cached_primitive(cpu::cache_key("rp_add_relu", n, (int)a.dtype), [&] {
      dnnl::primitive_attr attr = cpu::default_attr();
      dnnl::post_ops ops;
      CN_DNNL(ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f));
      CN_DNNL(attr.set_post_ops(ops));
      memory::desc md = flat_md(n, a.dtype);
      auto pd = CN_DNNL(dnnl::binary::primitive_desc(CN_DNNL(dnnl::binary::desc(algorithm::binary_add, md, md, md)), attr,
                                                     cpu::cpu_engine()));
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::binary(pd)), pd);
      p->add_operand(DNNL_ARG_SRC_0, md, pd.src0_desc(), false);
      p->add_operand(DNNL_ARG_SRC_1, md, pd.src1_desc(), false);
      p->add_operand(DNNL_ARG_DST, md, pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC_0, a.data}, {DNNL_ARG_SRC_1, b.data}, {DNNL_ARG_DST, out.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::add_relu_grad(TypedPtr dx, TypedPtr g1, TypedPtr g2, TypedPtr ref, int64_t n) {
  if (g1.dtype != g2.dtype || ref.dtype != g1.dtype || dx.dtype != g1.dtype)
    return invalid_argument("add_relu_grad: g1, g2, ref and dx dtypes differ");
  if (n <= 0) return Status::ok();
  CN_RETURN_IF_ERROR(binary(dx, g1, g2, BinaryOp::kAdd, {n}, {n}, {n}));
  return unary_grad(dx, dx, ref, n, UnaryGradOp::kRelu, 0.f);
}

namespace {
memory::desc rows_md(int64_t rows, int64_t cols, DType t) {
  return memory::desc({rows, cols}, dnnl_type(t), memory::format_tag::ab);
}
dnnl::softmax_v2_forward::primitive_desc softmax_fwd_pd(int64_t rows, int64_t cols, DType xt, DType yt, bool log) {
  auto desc = CN_DNNL(dnnl::softmax_v2_forward::desc(prop_kind::forward_training,
                                                     log ? algorithm::softmax_log : algorithm::softmax_accurate,
                                                     rows_md(rows, cols, xt), rows_md(rows, cols, yt), 1));
  return CN_DNNL(dnnl::softmax_v2_forward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
}
}  // namespace

Status CpuReducedPrecision::softmax(TypedPtr y, TypedPtr x, int64_t rows, int64_t cols, bool log) {
  if (rows <= 0 || cols <= 0) return Status::ok();
  return cpu::dnnl_guard("softmax", [&] { return "[" + std::to_string(rows) + "," + std::to_string(cols) + "]"; }, [&] {
    auto cp = cpu::cached_primitive(cpu::cache_key("rp_softmax", rows, cols, (int)x.dtype, (int)y.dtype, (int)log), [&] {
      auto pd = softmax_fwd_pd(rows, cols, x.dtype, y.dtype, log);
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::softmax_v2_forward(pd)), pd);
      p->add_operand(DNNL_ARG_SRC, rows_md(rows, cols, x.dtype), pd.src_desc(), false);
      p->add_operand(DNNL_ARG_DST, rows_md(rows, cols, y.dtype), pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, x.data}, {DNNL_ARG_DST, y.data}});
    return Status::ok();
  });
}

Status CpuReducedPrecision::softmax_backward(TypedPtr dx, TypedPtr dy, TypedPtr y, int64_t rows,
                                             int64_t cols, bool log) {
  if (rows <= 0 || cols <= 0) return Status::ok();
  return cpu::dnnl_guard("softmax_backward", [&] { return "[" + std::to_string(rows) + "," + std::to_string(cols) + "]"; }, [&] {
    auto cp = cpu::cached_primitive(
        cpu::cache_key("rp_softmax_bwd", rows, cols, (int)dx.dtype, (int)dy.dtype, (int)y.dtype, (int)log), [&] {
          auto hint = softmax_fwd_pd(rows, cols, y.dtype, y.dtype, log);
          auto desc = CN_DNNL(dnnl::softmax_v2_backward::desc(
              log ? algorithm::softmax_log : algorithm::softmax_accurate, rows_md(rows, cols, dx.dtype),
              rows_md(rows, cols, dy.dtype), rows_md(rows, cols, y.dtype), 1));
          auto pd = CN_DNNL(dnnl::softmax_v2_backward::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine(), hint));
          auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::softmax_v2_backward(pd)), pd);
          p->add_operand(DNNL_ARG_DST, rows_md(rows, cols, y.dtype), pd.dst_desc(), false);
          p->add_operand(DNNL_ARG_DIFF_DST, rows_md(rows, cols, dy.dtype), pd.diff_dst_desc(), false);
          p->add_operand(DNNL_ARG_DIFF_SRC, rows_md(rows, cols, dx.dtype), pd.diff_src_desc(), true);
          return std::shared_ptr<const CachedPrimitive>(p);
        });
    cpu::run_primitive(*cp, {{DNNL_ARG_DST, y.data}, {DNNL_ARG_DIFF_DST, dy.data}, {DNNL_ARG_DIFF_SRC, dx.data}});
    return Status::ok();
  });
}

}  // namespace cn
