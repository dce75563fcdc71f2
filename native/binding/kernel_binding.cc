// Eager kernel execution: kernelIds() maps names to ids; run(id, inputs, attrs, backend)
// runs one kernel on the calling thread (asynchronous work goes through compiled plans);
// kernelSchemas() lists each kernel's attributes (native/ops/kernel_schema.cc).
#include "bindings.h"
#include "guard.h"
#include "js_convert.h"
#include "../runtime/profiler.h"

namespace cn {
namespace {

// Unpacks (id, inputs, attrs, backend) into a ready KernelContext. Returns false after
// throwing a JS error.
bool prepare(const Napi::CallbackInfo& info, int* id, KernelContext* ctx, Attrs* attrs) {
  Napi::Env env = info.Env();
  *id = info[0].As<Napi::Number>().Int32Value();
  if (*id < 0 || *id >= (int)kernel_table().size()) {
    throw_status(env, invalid_argument("run: unknown kernel id " + std::to_string(*id)));
    return false;
  }
  const char* name = kernel_table()[*id].name.c_str();
  Napi::Array inputs = info[1].As<Napi::Array>();
  ctx->inputs.reserve(inputs.Length());
  for (uint32_t i = 0; i < inputs.Length(); ++i) {
    BufferPtr b = unwrap_handle(env, inputs.Get(i), name);
    if (!b) return false;
    ctx->inputs.push_back(std::move(b));
  }
  Status s = parse_attrs(info[2], attrs);
  if (!s.is_ok()) {
    throw_status(env, s);
    return false;
  }
  ctx->attrs = attrs;
  if (info.Length() > 3 && info[3].IsString()) {
    Status why;
    ctx->backend = backend_by_name(info[3].As<Napi::String>().Utf8Value(), &why);
    if (!ctx->backend) {
      throw_status(env, why);
      return false;
    }
  } else if (!ctx->inputs.empty()) {
    ctx->backend = ctx->inputs[0]->backend();
  }
  return true;
}

Napi::Value outputs_to_js(Napi::Env env, std::vector<BufferPtr>& outs) {
  if (outs.empty()) return env.Undefined();
  if (outs.size() == 1) return make_handle(env, std::move(outs[0]));
  Napi::Array a = Napi::Array::New(env, outs.size());
  for (size_t i = 0; i < outs.size(); ++i) a.Set((uint32_t)i, outs[i] ? make_handle(env, std::move(outs[i])) : env.Null());
  return a;
}

Napi::Value run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id;
  KernelContext ctx;
  Attrs attrs;
  if (!prepare(info, &id, &ctx, &attrs)) return env.Undefined();
  auto serial = serial_lock(ctx.backend);
  Status s = profiler::run_kernel(id, ctx);
  if (!s.is_ok()) return throw_status(env, s);
  return outputs_to_js(env, ctx.outputs);
}

Napi::Value kernel_ids(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const auto& t = kernel_table();
  for (size_t i = 0; i < t.size(); ++i) o.Set(t[i].name, Napi::Number::New(env, (double)i));
  return o;
}

// { kernel: { attribute: { type, required } } }, from native/ops/kernel_schema.cc (the
// contract test compares it with lib/kernels/kernel_names.ts).
Napi::Value kernel_schemas_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  for (const KernelSchema& s : cn::kernel_schemas()) {
    Napi::Object attrs = Napi::Object::New(env);
    for (const AttrSpec& a : s.attrs) {
      Napi::Object spec = Napi::Object::New(env);
      spec.Set("type", attr_type_name(a.type));
      spec.Set("required", a.required);
      attrs.Set(a.name, spec);
    }
    o.Set(s.kernel, attrs);
  }
  return o;
}

}  // namespace

void init_kernel_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "kernelIds", kernel_ids);
  export_function(env, exports, "kernelSchemas", kernel_schemas_js);
  export_function(env, exports, "run", run);
}

}  // namespace cn
