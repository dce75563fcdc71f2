// CpuReducedPrecision, part 5: sum and mean of bfloat16 tensors on oneDNN's reduction
// primitive, which reads bf16 and writes float32 (or bf16) itself, accumulating in float32
// (Note [casts inside primitives] in bf16_backend.h): no cast pass before the reduction,
// and no transpose for axes that are not adjacent (the primitive takes any set of axes).
//
// Note [bf16 reduction kernels]: oneDNN 2.6 has a jit reduction (jit:avx512_core_bf16) only
// where the reduced axes are the innermost ones in memory ([n, c, h*w] -> [n, c, 1]); any
// other set, GlobalAveragePooling2D's H, W of an NHWC tensor included ([n, h*w, c] ->
// [n, 1, c]), runs on its reference kernel (ref:any; checked with ONEDNN_VERBOSE). That is
// still one pass over the bf16 data, at the end of a network where the tensor is small
// (8x7x7x512 for ResNet-34 at batch 8); the public sum / mean keep casting to float32 first
// until a layer asks for this kernel.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "bf16_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using cpu::CachedPrimitive;
using cpu::dnnl_type;

memory::dims dense_strides(const memory::dims& d) {
  memory::dims s(d.size(), 1);
  for (int i = (int)d.size() - 2; i >= 0; --i) s[i] = s[i + 1] * d[i + 1];
  return s;
}

}  // namespace

Status CpuReducedPrecision::reduce(TypedPtr out, TypedPtr in, ReduceOp op, const Shape& in_shape,
                                   const std::vector<int64_t>& axes) {
  if (op != ReduceOp::kSum && op != ReduceOp::kMean)
    return not_supported("reduce: only sum and mean have a " + std::string(dtype_name(in.dtype)) + " kernel on the cpu backend");
  if (in_shape.empty() || axes.empty()) return invalid_argument("reduce: expected at least one axis");
  for (int64_t a : axes)
    if (a < 0 || a >= (int64_t)in_shape.size()) return invalid_argument("reduce: axis " + std::to_string(a) + " out of range");
  // Adjacent axes that are both reduced (or both kept) merge into one, and size-1 axes drop:
  // GlobalAveragePooling's [n, h, w, c] over {1, 2} becomes [n, h*w, c] -> [n, 1, c].
  memory::dims src, dst;
  int last = -1;  // 1 reduced, 0 kept
  for (int64_t i = 0; i < (int64_t)in_shape.size(); ++i) {
    if (in_shape[i] == 1) continue;
    int red = std::find(axes.begin(), axes.end(), i) != axes.end() ? 1 : 0;
    if (red == last) {
      src.back() *= in_shape[i];
      if (!red) dst.back() *= in_shape[i];
    } else {
      src.push_back(in_shape[i]);
      dst.push_back(red ? 1 : in_shape[i]);
    }
    last = red;
  }
  if (src.empty()) src.push_back(1), dst.push_back(1);
  int64_t n_out = 1, n_in = 1;
  for (size_t i = 0; i < src.size(); ++i) n_out *= dst[i], n_in *= src[i];
  if (n_out == 0) return Status::ok();
  if (n_in == 0) {  // an empty reduction: sum 0, mean NaN (as TensorFlow)
    std::vector<float> v((size_t)n_out, op == ReduceOp::kSum ? 0.f : std::numeric_limits<float>::quiet_NaN());
    if (out.dtype == DType::kFloat32) {
      std::memcpy(out.data, v.data(), sizeof(float) * v.size());
      return Status::ok();
    }
    return cast(out, TypedPtr(v.data(), DType::kFloat32), n_out);
  }
  auto shapes = [&] { return shape_str(in_shape) + " " + dtype_name(in.dtype) + "->" + dtype_name(out.dtype); };
  return cpu::dnnl_guard("reduce", shapes, [&] {
    std::string key = cpu::cache_key("rp_reduce", (int)op, (int)in.dtype, (int)out.dtype);
    for (size_t i = 0; i < src.size(); ++i) key += "|" + std::to_string(src[i]) + (dst[i] == 1 && src[i] != 1 ? "r" : "");
    auto cp = cpu::cached_primitive(key, [&] {
      memory::desc sm(src, dnnl_type(in.dtype), dense_strides(src));
      memory::desc dm(dst, dnnl_type(out.dtype), dense_strides(dst));
      auto desc = CN_DNNL(dnnl::reduction::desc(op == ReduceOp::kSum ? algorithm::reduction_sum : algorithm::reduction_mean,
                                                sm, dm, 0.f, 0.f));
      auto pd = CN_DNNL(dnnl::reduction::primitive_desc(desc, cpu::default_attr(), cpu::cpu_engine()));
      auto p = cpu::new_cached_primitive(CN_DNNL(dnnl::reduction(pd)), pd);
      p->add_operand(DNNL_ARG_SRC, sm, pd.src_desc(), false);
      p->add_operand(DNNL_ARG_DST, dm, pd.dst_desc(), true);
      return std::shared_ptr<const CachedPrimitive>(p);
    });
    cpu::run_primitive(*cp, {{DNNL_ARG_SRC, in.data}, {DNNL_ARG_DST, out.data}});
    return Status::ok();
  });
}

}  // namespace cn
