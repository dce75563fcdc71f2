// Profiler exports: profilerStart() turns the kernel profiler on; profilerStop() turns it
// off, waits for the backends that ran profiled kernels and returns
// { kernels: [{ name, backend, hostMs, deviceMs, inputShapes, outputShapes, extraInfo }],
//   totals: [{ name, calls, hostMs, deviceMs }], dropped }.
#include "bindings.h"
#include "guard.h"
#include "js_convert.h"
#include "../runtime/profiler.h"

namespace cn {
namespace {

Napi::Array shapes_to_js(Napi::Env env, const std::vector<Shape>& shapes) {
  Napi::Array a = Napi::Array::New(env, shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    Napi::Array d = Napi::Array::New(env, shapes[i].size());
    for (size_t k = 0; k < shapes[i].size(); ++k) d.Set((uint32_t)k, Napi::Number::New(env, (double)shapes[i][k]));
    a.Set((uint32_t)i, d);
  }
  return a;
}

Napi::Value profiler_start(const Napi::CallbackInfo& info) {
  Status s = profiler::start();
  if (!s.is_ok()) return throw_status(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value profiler_stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  profiler::Report r;
  Status s = profiler::stop(&r);
  if (!s.is_ok()) return throw_status(env, s);
  const auto& table = kernel_table();
  Napi::Array kernels = Napi::Array::New(env, r.records.size());
  for (size_t i = 0; i < r.records.size(); ++i) {
    const profiler::KernelRecord& k = r.records[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", table[k.kernel].name);
    o.Set("backend", k.backend);
    o.Set("hostMs", k.host_ms);
    o.Set("deviceMs", k.device_ms);
    o.Set("inputShapes", shapes_to_js(env, k.inputs));
    o.Set("outputShapes", shapes_to_js(env, k.outputs));
    o.Set("extraInfo", k.note);
    kernels.Set((uint32_t)i, o);
  }
  Napi::Array totals = Napi::Array::New(env, r.totals.size());
  for (size_t i = 0; i < r.totals.size(); ++i) {
    const profiler::KernelTotal& t = r.totals[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", table[t.kernel].name);
    o.Set("calls", (double)t.calls);
    o.Set("hostMs", t.host_ms);
    o.Set("deviceMs", t.device_ms);
    totals.Set((uint32_t)i, o);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("kernels", kernels);
  out.Set("totals", totals);
  out.Set("dropped", (double)r.dropped);
  return out;
}

}  // namespace

void init_profiler_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "profilerStart", profiler_start);
  export_function(env, exports, "profilerStop", profiler_stop);
}

}  // namespace cn
