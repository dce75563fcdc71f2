// CudaReducedPrecision data movement and reductions (half_backend.h): transpose, slab copies
// (concat / split), slice and pad on 2-byte elements, moved bit for bit by movement.cu's
// kernels instantiated for 16-bit elements (so float16 moves as bfloat16 does, Note [reduced
// precision] in ops/typed_kernels.h: storage kernels), with the float32 methods' checks and
// semantics (movement_plan.h); and Sum / Mean of a 16-bit tensor accumulated in float32.
#include <algorithm>

#include "cuda_backend.h"
#include "half_backend.h"
#include "movement_plan.h"
#include "kernels/half_types.h"
#include "kernels/reduced_kernels.h"

namespace cn {

namespace {

using cuda::expect_typed;

// in and out of one 16-bit dtype.
Status same16(const char* op, const TypedPtr& out, const TypedPtr& in) {
  CN_RETURN_IF_ERROR(expect_typed(op, "in", in, {DType::kBFloat16, DType::kFloat16}));
  return expect_typed(op, "out", out, {in.dtype});
}

}  // namespace

Status CudaReducedPrecision::transpose(TypedPtr out, TypedPtr in, const TransposeParams& p) {
  CN_RETURN_IF_ERROR(same16("transpose", out, in));
  cuda::k::IndexMap m;
  CN_RETURN_IF_ERROR(cuda::plan_transpose(p, &m));
  if (p.size == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::gather_strided16(b_->stream(), out.data, in.data, p.size, m, 0),
                  "transpose in=" + shape_str(Shape(p.in_shape, p.in_shape + p.rank)) + " " + dtype_name(in.dtype));
  return Status::ok();
}

Status CudaReducedPrecision::copy_slab(TypedPtr out, TypedPtr in, int64_t outer, int64_t in_axis, int64_t out_axis,
                                       int64_t offset, int64_t inner, bool into_out) {
  CN_RETURN_IF_ERROR(same16("copy_slab", out, in));
  CN_RETURN_IF_ERROR(cuda::check_slab(outer, in_axis, out_axis, offset, inner, into_out));
  CN_LAUNCH_CHECK(cuda::k::copy_slab16(b_->stream(), out.data, in.data, outer, in_axis, out_axis, offset, inner,
                                       into_out),
                  "copy_slab outer=" + std::to_string(outer) + " in_axis=" + std::to_string(in_axis) +
                      " out_axis=" + std::to_string(out_axis) + " inner=" + std::to_string(inner));
  return Status::ok();
}

Status CudaReducedPrecision::slice(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& begin,
                                   const Shape& size) {
  CN_RETURN_IF_ERROR(same16("slice", out, in));
  cuda::k::IndexMap m;
  int64_t offset;
  CN_RETURN_IF_ERROR(cuda::plan_slice(in_shape, begin, size, &m, &offset));
  int64_t n = num_elements(size);
  if (n == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::gather_strided16(b_->stream(), out.data, in.data, n, m, offset),
                  "slice in=" + shape_str(in_shape) + " begin=" + shape_str(begin) + " size=" + shape_str(size));
  return Status::ok();
}

Status CudaReducedPrecision::pad(TypedPtr out, TypedPtr in, const Shape& in_shape, const Shape& before,
                                 const Shape& after, float value) {
  CN_RETURN_IF_ERROR(same16("pad", out, in));
  cuda::k::PadDesc d;
  int64_t n;
  CN_RETURN_IF_ERROR(cuda::plan_pad(in_shape, before, after, &d, &n));
  if (n == 0) return Status::ok();
  // The value rounds to the dtype, as a cast would.
  const uint16_t bits = in.dtype == DType::kBFloat16 ? cuda::k::bf16_from(value).bits : cuda::k::fp16_from(value).bits;
  CN_LAUNCH_CHECK(cuda::k::pad16(b_->stream(), out.data, in.data, n, d, bits),
                  "pad in=" + shape_str(in_shape) + " before=" + shape_str(before) + " after=" + shape_str(after));
  return Status::ok();
}

// Note [reduced-precision reductions]: Sum / Mean of a 16-bit x widen it into float32 scratch
// (one pass) and run the float32 reduction over [outer, reduce, inner] (non-adjacent axes
// moved last by one float32 transpose first, as the float32 kernel does: Note [reduce
// layout] in ops/reduce_kernels.cc); a reduced-dtype result is rounded once at the end.
// Under mixed precision these are global average pooling and bias-gradient sums, small next
// to the convolutions around them.
Status CudaReducedPrecision::reduce(TypedPtr out, TypedPtr in, ReduceOp op, const Shape& in_shape,
                                    const std::vector<int64_t>& axes) {
  CN_RETURN_IF_ERROR(expect_typed("reduce", "x", in, {DType::kBFloat16, DType::kFloat16}));
  CN_RETURN_IF_ERROR(expect_typed("reduce", "out", out, {in.dtype, DType::kFloat32}));
  if (op != ReduceOp::kSum && op != ReduceOp::kMean) return refuse("reduce (only sum and mean)", in.dtype);
  const int64_t r = (int64_t)in_shape.size(), n = num_elements(in_shape);
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= r || (i && axes[i] <= axes[i - 1]))
      return invalid_argument("reduce: expected sorted, unique axes within rank " + std::to_string(r));
  if (axes.empty()) return invalid_argument("reduce: expected at least one axis");
  const std::string ctx = "reduce x=" + shape_str(in_shape) + " " + dtype_name(in.dtype);
  cuda::Scratch wide, moved, acc;
  CN_RETURN_IF_ERROR(b_->scratch(&wide, sizeof(float) * std::max<int64_t>(n, 1)));
  CN_LAUNCH_CHECK(cuda::k::rp_cast(b_->stream(), wide.get(), (int)DType::kFloat32, in.data, (int)in.dtype, n), ctx);
  ReduceParams p;
  const float* src = wide.f32();
  if (axes.back() - axes.front() + 1 == (int64_t)axes.size()) {
    for (int64_t i = 0; i < axes.front(); ++i) p.outer *= in_shape[i];
    for (int64_t i : axes) p.reduce *= in_shape[i];
    for (int64_t i = axes.back() + 1; i < r; ++i) p.inner *= in_shape[i];
  } else {
    TransposeParams t;
    t.rank = (int)r;
    int j = 0;
    for (int64_t i = 0; i < r; ++i) {
      t.in_shape[i] = in_shape[i];
      if (std::find(axes.begin(), axes.end(), i) == axes.end()) {
        t.perm[j++] = (int)i;
        p.outer *= in_shape[i];
      }
    }
    for (int64_t a : axes) {
      t.perm[j++] = (int)a;
      p.reduce *= in_shape[a];
    }
    t.size = n;
    CN_RETURN_IF_ERROR(b_->scratch(&moved, sizeof(float) * std::max<int64_t>(n, 1)));
    CN_RETURN_IF_ERROR(b_->transpose(moved.get(), wide.get(), t));
    src = moved.f32();
  }
  const int64_t count = p.outer * p.inner;
  float* dst = static_cast<float*>(out.data);
  if (out.dtype != DType::kFloat32) {
    CN_RETURN_IF_ERROR(b_->scratch(&acc, sizeof(float) * std::max<int64_t>(count, 1)));
    dst = acc.f32();
  }
  CN_RETURN_IF_ERROR(b_->reduce(dst, src, op, p));
  if (out.dtype != DType::kFloat32)
    CN_LAUNCH_CHECK(cuda::k::rp_cast(b_->stream(), out.data, (int)out.dtype, dst, (int)DType::kFloat32, count), ctx);
  return Status::ok();
}

}  // namespace cn
