// CpuBackend batched matrix multiply on oneDNN's matmul primitive:
// C[batch, m, n] = op(A) * op(B) (+ bias[n]) (+ ReLU), transposes expressed as strides and
// an unbatched operand broadcast over the batch.
#include <algorithm>
#include <cstring>

#include "cpu_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::memory;
using cpu::CachedPrimitive;
constexpr memory::data_type kF32 = memory::data_type::f32;

std::string matmul_shapes(const MatMulParams& p) {
  auto dim = [](int64_t v) { return std::to_string(v); };
  std::string a = p.trans_a ? "[" + dim(p.k) + "," + dim(p.m) + "]" : "[" + dim(p.m) + "," + dim(p.k) + "]";
  std::string b = p.trans_b ? "[" + dim(p.n) + "," + dim(p.k) + "]" : "[" + dim(p.k) + "," + dim(p.n) + "]";
  return "a=" + std::string(p.a_batched ? dim(p.batch) + "x" : "") + a +
         (p.trans_a ? " (transposed)" : "") + " b=" + (p.b_batched ? dim(p.batch) + "x" : "") + b +
         (p.trans_b ? " (transposed)" : "") + " c=[" + dim(p.batch) + "," + dim(p.m) + "," +
         dim(p.n) + "]" + (p.has_bias ? " +bias" : "") + (p.relu ? " +relu" : "");
}

Status validate(const MatMulParams& p) {
  if (p.batch < 0 || p.m < 0 || p.n < 0 || p.k < 0)
    return invalid_argument("matmul: inconsistent parameters " + matmul_shapes(p));
  return Status::ok();
}

// The problem as handed to oneDNN, after folding the batch into m where possible.
struct Problem {
  int64_t batch, m, n, k;
  bool a_batched, b_batched, trans_a, trans_b, bias, relu;
  int64_t copies;  // the result is replicated this many times along C's batch
};

// Note [batch folding]: a batched, untransposed A times a shared B is one [batch*m, k] x
// [k, n] product with C's memory unchanged; a single large GEMM beats `batch` small ones.
Problem fold(const MatMulParams& p) {
  Problem q{p.batch, p.m, p.n, p.k, p.a_batched, p.b_batched, p.trans_a, p.trans_b,
            p.has_bias, p.relu, 1};
  // oneDNN wants C's batch to come from an operand; with neither batched, every batch
  // entry of C is the same product.
  if (q.batch > 1 && !q.a_batched && !q.b_batched) {
    q.copies = q.batch;
    q.batch = 1;
  }
  if (q.batch > 1 && q.a_batched && !q.b_batched && !q.trans_a) {
    q.m *= q.batch;
    q.batch = 1;
  }
  if (q.batch == 1) q.a_batched = q.b_batched = true;
  return q;
}

// A is [Ba, m, k] (stored [Ba, k, m] when transposed), B is [Bb, k, n] (stored [Bb, n, k]);
// an unbatched operand has batch extent 1, which oneDNN broadcasts.
memory::desc a_md(const Problem& q) {
  int64_t b = q.a_batched ? q.batch : 1;
  return memory::desc({b, q.m, q.k}, kF32,
                      q.trans_a ? memory::dims{q.m * q.k, 1, q.m} : memory::dims{q.m * q.k, q.k, 1});
}
memory::desc b_md(const Problem& q) {
  int64_t b = q.b_batched ? q.batch : 1;
  return memory::desc({b, q.k, q.n}, kF32,
                      q.trans_b ? memory::dims{q.k * q.n, 1, q.k} : memory::dims{q.k * q.n, q.n, 1});
}
memory::desc c_md(const Problem& q) {
  return memory::desc({q.batch, q.m, q.n}, kF32, memory::dims{q.m * q.n, q.n, 1});
}
memory::desc bias_md(const Problem& q) {
  return memory::desc({1, 1, q.n}, kF32, memory::dims{q.n, q.n, 1});
}

std::shared_ptr<const CachedPrimitive> matmul_primitive(const Problem& q) {
  std::string key = cpu::cache_key("matmul", q.batch, q.m, q.n, q.k, (int)q.a_batched,
                                   (int)q.b_batched, (int)q.trans_a, (int)q.trans_b, (int)q.bias,
                                   (int)q.relu);
  return cpu::cached_primitive(key, [&] {
    dnnl::primitive_attr attr = cpu::default_attr();
    if (q.relu) {
      dnnl::post_ops ops;
      CN_DNNL(ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f));
      CN_DNNL(attr.set_post_ops(ops));
    }
    auto desc = q.bias ? CN_DNNL(dnnl::matmul::desc(a_md(q), b_md(q), bias_md(q), c_md(q)))
                       : CN_DNNL(dnnl::matmul::desc(a_md(q), b_md(q), c_md(q)));
    auto pd = CN_DNNL(dnnl::matmul::primitive_desc(desc, attr, cpu::cpu_engine()));
    auto cp = cpu::new_cached_primitive(CN_DNNL(dnnl::matmul(pd)), pd);
    cp->add_operand(DNNL_ARG_SRC, a_md(q), pd.src_desc(), false);
    cp->add_operand(DNNL_ARG_WEIGHTS, b_md(q), pd.weights_desc(), false);
    if (q.bias) cp->add_operand(DNNL_ARG_BIAS, bias_md(q), pd.bias_desc(), false);
    cp->add_operand(DNNL_ARG_DST, c_md(q), pd.dst_desc(), true);
    return std::shared_ptr<const CachedPrimitive>(cp);
  });
}

}  // namespace

Status CpuBackend::matmul(float* c, const float* a, const float* b, const float* bias,
                          const MatMulParams& p) {
  CN_RETURN_IF_ERROR(validate(p));
  if (p.has_bias && bias == nullptr) return invalid_argument("matmul: has_bias is set but bias is null");
  if (p.batch == 0 || p.m == 0 || p.n == 0) return Status::ok();
  if (p.k == 0) {  // empty sum: C = relu?(bias or 0)
    int64_t rows = p.batch * p.m;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < p.n; ++j) {
        float v = p.has_bias ? bias[j] : 0.0f;
        c[r * p.n + j] = p.relu ? std::max(v, 0.0f) : v;
      }
    return Status::ok();
  }
  return cpu::dnnl_guard("matmul", [&] { return matmul_shapes(p); }, [&] {
    Problem q = fold(p);
    auto cp = matmul_primitive(q);
    if (q.bias)
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_BIAS, bias},
                               {DNNL_ARG_DST, c}});
    else
      cpu::run_primitive(*cp, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    size_t block = (size_t)(p.m * p.n);
    for (int64_t i = 1; i < q.copies; ++i) std::memcpy(c + i * block, c, sizeof(float) * block);
    return Status::ok();
  });
}

}  // namespace cn
