// Reductions (Sum, Mean, Max, Min, Prod over attr axes, keepDims), ArgMax (attr axis)
// and OneHot (attrs depth, onValue, offValue).
#include <algorithm>

#include "../core/reduced_precision.h"
#include "kernel.h"
#include "typed_kernels.h"

namespace cn {
namespace {

// Normalizes axes (negative allowed; empty = all) into a sorted unique list.
Status normalize_axes(const char* k, const Shape& s, std::vector<int64_t> axes, std::vector<int64_t>* out) {
  int64_t r = (int64_t)s.size();
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  for (auto& a : axes) {
    // A rank-0 tensor has no axis 0 (TensorFlow: "Invalid reduction dimension (0 for input
    // with 0 dimension(s)"); reading s[0] of it crashed.
    if (a < -r || a >= r)
      return invalid_argument(std::string(k) + ": expected axis in [" + std::to_string(-r) + ", " + std::to_string(r) +
                              ") but received " + std::to_string(a) + " for x of shape " + shape_str(s));
    if (a < 0) a += r;
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  *out = axes;
  return Status::ok();
}

template <ReduceOp op>
Status k_reduce(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs(c.kernel, 1, 1));
  BufferPtr x = c.inputs[0];
  CN_RETURN_IF_ERROR(expect_dtype(c.kernel, "x", x, DType::kFloat32));
  std::vector<int64_t> axes;
  CN_RETURN_IF_ERROR(normalize_axes(c.kernel, x->shape, c.a().ints("axes"), &axes));
  const Shape& s = x->shape;
  int64_t r = (int64_t)s.size();
  Shape out_shape, kept;
  for (int64_t i = 0; i < r; ++i) {
    bool red = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!red) out_shape.push_back(s[i]);
    kept.push_back(red ? 1 : s[i]);
  }
  bool contiguous = axes.empty() || axes.back() - axes.front() + 1 == (int64_t)axes.size();
  ReduceParams p;
  BufferPtr src = x, tmp;
  if (contiguous && !axes.empty()) {
    for (int64_t i = 0; i < axes.front(); ++i) p.outer *= s[i];
    for (int64_t i : axes) p.reduce *= s[i];
    for (int64_t i = axes.back() + 1; i < r; ++i) p.inner *= s[i];
  } else if (!axes.empty()) {
    // Note [reduce layout]: non-adjacent axes are moved last by one transpose first.
    TransposeParams t;
    t.rank = (int)r;
    int j = 0;
    for (int64_t i = 0; i < r; ++i) {
      t.in_shape[i] = s[i];
      if (std::find(axes.begin(), axes.end(), i) == axes.end()) { t.perm[j++] = (int)i; p.outer *= s[i]; }
    }
    for (int64_t a : axes) { t.perm[j++] = (int)a; p.reduce *= s[a]; }
    t.size = x->size();
    CN_RETURN_IF_ERROR(make_buffer(&tmp, c.backend, s, DType::kFloat32));
    CN_RETURN_IF_ERROR(c.backend->transpose(tmp->raw(), x->raw(), t));
    src = tmp;
  }
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.a().b("keepDims") ? kept : out_shape, DType::kFloat32, &y));
  if (axes.empty()) return c.backend->copy(y->raw(), x->raw(), x->storage->bytes);
  return c.backend->reduce(y->f32(), src->f32(), op, p);
}

// Sum / Mean of a bfloat16 x: the backend's reduction reads x as it is, accumulates in
// float32 and writes x's dtype (GlobalAveragePooling2D under mixed_bfloat16, as Keras), or
// float32 with attr outDtype 'float32' (losses and metrics, which Keras computes in float32),
// over any set of axes in one primitive (bf16_reduce.cc). The output dtype follows the
// 'reduced' rule of lib/kernels/reduced_dtypes.ts.
template <ReduceOp op>
Status k_reduce_typed(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs(c.kernel, 1, 1));
  BufferPtr x = c.inputs[0];
  std::vector<int64_t> axes;
  CN_RETURN_IF_ERROR(normalize_axes(c.kernel, x->shape, c.a().ints("axes"), &axes));
  DType out_t = x->dtype;
  std::string s = c.a().s("outDtype", "");
  if (!s.empty()) {
    if (!parse_any_dtype(s, &out_t) || (out_t != DType::kFloat32 && out_t != x->dtype))
      return invalid_argument(std::string(c.kernel) + ": expected outDtype 'float32' or '" + dtype_name(x->dtype) +
                              "' but received '" + s + "'");
  }
  Shape out_shape, kept;
  for (int64_t i = 0; i < (int64_t)x->shape.size(); ++i) {
    bool red = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!red) out_shape.push_back(x->shape[i]);
    kept.push_back(red ? 1 : x->shape[i]);
  }
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.a().b("keepDims") ? kept : out_shape, out_t, &y));
  ReducedPrecisionOps* rp = c.backend->reduced_precision();
  if (axes.empty()) {  // nothing reduced: x itself, in out_t
    if (out_t == x->dtype) return c.backend->copy(y->raw(), x->raw(), x->storage->bytes);
    return rp->cast(TypedPtr(y->raw(), out_t), TypedPtr(x->raw(), x->dtype), x->size());
  }
  return rp->reduce(TypedPtr(y->raw(), out_t), TypedPtr(x->raw(), x->dtype), op, x->shape, axes);
}

Status k_argmax(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("argMax", 1, 1));
  const Shape& s = c.inputs[0]->shape;
  int64_t r = (int64_t)s.size(), axis = c.a().i("axis", 0);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return invalid_argument("argMax: axis " + std::to_string(c.a().i("axis")) + " is out of range for shape " + shape_str(s));
  ReduceParams p;
  Shape out;
  for (int64_t i = 0; i < r; ++i) {
    if (i < axis) p.outer *= s[i];
    if (i > axis) p.inner *= s[i];
    if (i != axis) out.push_back(s[i]);
  }
  p.reduce = s[axis];
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, DType::kInt32, &y));
  return c.backend->argmax(y->i32(), c.inputs[0]->f32(), p);
}

Status k_one_hot(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("oneHot", 1, 1));
  CN_RETURN_IF_ERROR(expect_dtype("oneHot", "indices", c.inputs[0], DType::kInt32));
  int64_t depth = c.a().i("depth");
  if (depth < 1) return invalid_argument("oneHot: expected depth >= 1 but received " + std::to_string(depth));
  Shape out = c.inputs[0]->shape;
  out.push_back(depth);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, DType::kFloat32, &y));
  return c.backend->one_hot(y->f32(), c.inputs[0]->i32(), c.inputs[0]->size(), depth,
                            (float)c.a().f("onValue", 1), (float)c.a().f("offValue", 0));
}

}  // namespace

CN_REGISTER_KERNEL("Sum", k_reduce<ReduceOp::kSum>);
CN_REGISTER_KERNEL("Mean", k_reduce<ReduceOp::kMean>);
CN_REGISTER_KERNEL("Max", k_reduce<ReduceOp::kMax>);
CN_REGISTER_KERNEL("Min", k_reduce<ReduceOp::kMin>);
CN_REGISTER_KERNEL("Prod", k_reduce<ReduceOp::kProd>);
CN_REGISTER_KERNEL("ArgMax", k_argmax);
CN_REGISTER_KERNEL("OneHot", k_one_hot);
const auto kReduced = {DType::kBFloat16, DType::kFloat16};
CN_REGISTER_TYPED_KERNEL("Sum", kReduced, false, k_reduce_typed<ReduceOp::kSum>);
CN_REGISTER_TYPED_KERNEL("Mean", kReduced, false, k_reduce_typed<ReduceOp::kMean>);

}  // namespace cn
