// Data movement kernels: Reshape (a view, no copy), Transpose (attr perm), Concat (attr
// axis, any number of inputs), Slice (attrs begin, size), Pad (attrs before, after, value).
// Transpose, Concat, Slice and Pad are also the bfloat16 / float16 variants (storage
// kernels, registered below): one shape check, and 2-byte elements move through the
// backend's ReducedPrecisionOps (Note [reduced precision] in typed_kernels.h).
#include "../core/reduced_precision.h"
#include "kernel.h"
#include "typed_kernels.h"

namespace cn {
namespace {

// bfloat16 / float16 buffers move through the backend's ReducedPrecisionOps (dispatch_kernel
// only sends them here where the backend has one).
bool two_byte(const BufferPtr& b) { return is_reduced_precision(b->dtype); }
TypedPtr typed(const BufferPtr& b) { return TypedPtr(b->raw(), b->dtype); }

Status k_reshape(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("reshape", 1, 1));
  Shape s = c.a().ints("shape");
  int64_t count = 0;
  CN_RETURN_IF_ERROR(checked_num_elements(s, "reshape: shape", &count));
  if (count != c.inputs[0]->size())
    return invalid_argument("reshape: cannot reshape " + shape_str(c.inputs[0]->shape) + " into " + shape_str(s));
  if (c.outputs.empty()) c.outputs.resize(1);
  c.outputs[0] = view_buffer(c.inputs[0], s);
  return Status::ok();
}

Status k_transpose(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("transpose", 1, 1));
  const Shape& s = c.inputs[0]->shape;
  auto perm = c.a().ints("perm");
  if (perm.empty())
    for (int64_t i = (int64_t)s.size() - 1; i >= 0; --i) perm.push_back(i);
  if (perm.size() != s.size() || s.size() > (size_t)kMaxRank)
    return invalid_argument("transpose: expected perm of length " + std::to_string(s.size()) + " but received " + shape_str(perm));
  TransposeParams p;
  p.rank = (int)s.size();
  Shape out;
  std::vector<bool> seen(s.size(), false);
  for (size_t i = 0; i < s.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= (int64_t)s.size() || seen[perm[i]])
      return invalid_argument("transpose: perm " + shape_str(perm) + " is not a permutation");
    seen[perm[i]] = true;
    p.in_shape[i] = s[i];
    p.perm[i] = (int)perm[i];
    out.push_back(s[perm[i]]);
  }
  p.size = c.inputs[0]->size();
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, c.inputs[0]->dtype, &y));
  if (two_byte(y)) return c.backend->reduced_precision()->transpose(typed(y), typed(c.inputs[0]), p);
  return c.backend->transpose(y->raw(), c.inputs[0]->raw(), p);
}

Status k_concat(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("concat", 1, 4096));
  const Shape& s0 = c.inputs[0]->shape;
  int64_t r = (int64_t)s0.size(), axis = c.a().i("axis");
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) return invalid_argument("concat: axis " + std::to_string(c.a().i("axis")) + " is out of range for rank " + std::to_string(r));
  Shape out = s0;
  out[axis] = 0;
  for (auto& in : c.inputs) {
    if (in->shape.size() != s0.size() || in->dtype != c.inputs[0]->dtype)
      return invalid_argument("concat: inputs must share rank and dtype");
    for (int64_t i = 0; i < r; ++i)
      if (i != axis && in->shape[i] != s0[i])
        return invalid_argument("concat: shapes " + shape_str(s0) + " and " + shape_str(in->shape) + " differ outside axis " + std::to_string(axis));
    if (!checked_add(out[axis], in->shape[axis], &out[axis]))
      return invalid_argument("concat: output extent along axis " + std::to_string(axis) + " overflows");
  }
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= s0[i];
  for (int64_t i = axis + 1; i < r; ++i) inner *= s0[i];
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, c.inputs[0]->dtype, &y));
  int64_t offset = 0;
  for (auto& in : c.inputs) {
    if (two_byte(y))
      CN_RETURN_IF_ERROR(c.backend->reduced_precision()->copy_slab(typed(y), typed(in), outer, in->shape[axis], out[axis],
                                                                   offset, inner, true));
    else
      CN_RETURN_IF_ERROR(c.backend->copy_slab(y->raw(), in->raw(), outer, in->shape[axis], out[axis], offset, inner, true));
    offset += in->shape[axis];
  }
  return Status::ok();
}

Status k_slice(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("slice", 1, 1));
  const Shape& s = c.inputs[0]->shape;
  Shape begin = c.a().ints("begin"), size = c.a().ints("size");
  if (begin.size() != s.size() || size.size() != s.size())
    return invalid_argument("slice: expected begin and size of length " + std::to_string(s.size()));
  for (size_t i = 0; i < s.size(); ++i) {
    if (size[i] == -1) size[i] = s[i] - begin[i];
    int64_t end = 0;  // begin and size saturate at 2^62 (Note [integer attributes]): checked
    if (begin[i] < 0 || size[i] < 0 || !checked_add(begin[i], size[i], &end) || end > s[i])
      return invalid_argument("slice: begin " + shape_str(begin) + " size " + shape_str(size) + " out of bounds for shape " + shape_str(s));
  }
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, size, c.inputs[0]->dtype, &y));
  if (two_byte(y)) return c.backend->reduced_precision()->slice(typed(y), typed(c.inputs[0]), s, begin, size);
  return c.backend->slice(y->raw(), c.inputs[0]->raw(), s, begin, size);
}

Status k_pad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("pad", 1, 1));
  const DType t = c.inputs[0]->dtype;
  if (!is_reduced_precision(t)) CN_RETURN_IF_ERROR(expect_dtype("pad", "x", c.inputs[0], DType::kFloat32));
  const Shape& s = c.inputs[0]->shape;
  Shape before = c.a().ints("before"), after = c.a().ints("after");
  if (before.size() != s.size() || after.size() != s.size())
    return invalid_argument("pad: expected paddings for " + std::to_string(s.size()) + " axes");
  Shape out = s;
  for (size_t i = 0; i < s.size(); ++i) {
    if (before[i] < 0 || after[i] < 0) return invalid_argument("pad: paddings must be >= 0");
    if (!checked_add(out[i], before[i], &out[i]) || !checked_add(out[i], after[i], &out[i]))
      return invalid_argument("pad: padded extent of axis " + std::to_string(i) + " overflows for paddings " +
                              shape_str(before) + " / " + shape_str(after));
  }
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, t, &y));
  if (two_byte(y))
    return c.backend->reduced_precision()->pad(typed(y), typed(c.inputs[0]), s, before, after, (float)c.a().f("value"));
  return c.backend->pad(y->f32(), c.inputs[0]->f32(), s, before, after, (float)c.a().f("value"));
}

}  // namespace

CN_REGISTER_KERNEL("Reshape", k_reshape);
CN_REGISTER_KERNEL("Transpose", k_transpose);
CN_REGISTER_KERNEL("Concat", k_concat);
CN_REGISTER_KERNEL("Slice", k_slice);
CN_REGISTER_KERNEL("Pad", k_pad);

const auto kTwoByte = {DType::kBFloat16, DType::kFloat16};
CN_REGISTER_TYPED_KERNEL("Transpose", kTwoByte, true, k_transpose);
CN_REGISTER_TYPED_KERNEL("Concat", kTwoByte, true, k_concat);
CN_REGISTER_TYPED_KERNEL("Slice", kTwoByte, true, k_slice);
CN_REGISTER_TYPED_KERNEL("Pad", kTwoByte, true, k_pad);

}  // namespace cn
