// The typed-kernel registry and dispatch_kernel (Note [reduced precision] in typed_kernels.h).
#include "typed_kernels.h"

#include <algorithm>

#include "../core/reduced_precision.h"

namespace cn {

namespace {
std::vector<TypedKernelDef>& table() {
  static std::vector<TypedKernelDef> t;
  return t;
}

const TypedKernelDef* find_typed(const std::string& name) {
  for (const auto& d : table())
    if (d.name == name) return &d;
  return nullptr;
}
}  // namespace

int register_typed_kernel(const char* name, std::initializer_list<DType> dtypes, bool storage_only,
                          KernelFn fn) {
  table().push_back({name, std::vector<DType>(dtypes), storage_only, fn});
  return (int)table().size() - 1;
}

const std::vector<TypedKernelDef>& typed_kernel_table() { return table(); }

bool parse_any_dtype(const std::string& s, DType* out) {
  if (s == "float32") *out = DType::kFloat32;
  else if (s == "int32") *out = DType::kInt32;
  else if (s == "bool" || s == "uint8") *out = DType::kUint8;
  else if (s == "bfloat16") *out = DType::kBFloat16;
  else if (s == "float16") *out = DType::kFloat16;
  else return false;
  return true;
}

Status dispatch_kernel(int id, KernelContext& ctx) {
  const KernelDef& def = kernel_table()[id];
  DType reduced = DType::kFloat32;
  bool any = false;
  for (const BufferPtr& b : ctx.inputs)
    if (b && is_reduced_precision(b->dtype)) {
      reduced = b->dtype;
      any = true;
      break;
    }
  DType attr_dtype;
  if (!any && ctx.attrs && ctx.attrs->has("dtype") && parse_any_dtype(ctx.attrs->s("dtype"), &attr_dtype) &&
      is_reduced_precision(attr_dtype)) {
    reduced = attr_dtype;
    any = true;
  }
  if (!any) return def.fn(ctx);

  const std::string dt = dtype_name(reduced);
  const TypedKernelDef* typed = find_typed(def.name);
  if (!typed || std::find(typed->dtypes.begin(), typed->dtypes.end(), reduced) == typed->dtypes.end())
    return not_supported(def.name + ": dtype " + dt + " is not supported by this op (cast to float32 first)");
  Backend* backend = ctx.backend ? ctx.backend : (ctx.inputs.empty() || !ctx.inputs[0] ? nullptr : ctx.inputs[0]->backend());
  if (!backend) return invalid_argument(def.name + ": no backend");
  ReducedPrecisionOps* rp = backend->reduced_precision();
  if (!rp)
    return not_supported(def.name + ": dtype " + dt + " is not supported on the " + backend->name() +
                         " backend yet");
  if (!typed->storage_only && !rp->computes(reduced))
    return not_supported(def.name + ": dtype " + dt + " is not supported on the " + backend->name() +
                         " backend (its library has no " + dt + " kernel for this op; it stores and casts " + dt +
                         " only)");
  return typed->fn(ctx);
}

}  // namespace cn
