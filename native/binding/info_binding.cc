// Information exports: backends() (what is compiled in and what can run, with reasons),
// cudaLibraries() (cuDNN / cuBLAS as the loader finds them, device or not), buildInfo(),
// setCudaOptions().
#include <dnnl.hpp>

#include "../core/reduced_precision.h"
#include "../cpu/cpu_backend.h"
#include "../cuda/cuda_probe.h"
#include "../ops/typed_kernels.h"
#include "bindings.h"
#include "guard.h"
#include "js_convert.h"

namespace cn {
namespace {

// What a backend does with bfloat16 / float16 (Note [reduced precision] in ops/typed_kernels.h).
Napi::Object reduced_precision_info(Napi::Env env, const ReducedPrecisionOps* rp) {
  Napi::Object o = Napi::Object::New(env);
  if (!rp) {
    o.Set("bfloat16", "not supported");
    o.Set("float16", "not supported");
    return o;
  }
  o.Set("isa", rp->isa());
  o.Set("bfloat16", rp->computes(DType::kBFloat16) ? (rp->native_bf16() ? "native" : "emulated") : "storage only");
  o.Set("float16", rp->computes(DType::kFloat16) ? (rp->native_fp16() ? "native" : "emulated") : "storage only");
  Napi::Array kernels = Napi::Array::New(env);
  uint32_t i = 0;
  for (const TypedKernelDef& d : typed_kernel_table())
    if (!d.storage_only) kernels.Set(i++, d.name);
  o.Set("kernels", kernels);
  return o;
}

Napi::Value backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 2);
  Napi::Object cpu = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  cpu.Set("name", "cpu");
  cpu.Set("compiled", true);
  cpu.Set("available", true);
  cpu.Set("library", "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  cpu.Set("reducedPrecision", reduced_precision_info(env, cpu_backend()->reduced_precision()));
  out.Set(0u, cpu);
  const CudaInfo& ci = cuda_probe();
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("name", "cuda");
  cuda.Set("compiled", ci.compiled);
  cuda.Set("available", ci.available);
  cuda.Set("reason", ci.reason);
  cuda.Set("deviceName", ci.device_name);
  cuda.Set("computeCapability", std::to_string(ci.cc_major) + "." + std::to_string(ci.cc_minor));
  cuda.Set("cudnnVersion", (double)ci.cudnn_version);
  cuda.Set("cublasVersion", (double)ci.cublas_version);
  cuda.Set("runtimeVersion", (double)ci.runtime_version);
  cuda.Set("driverVersion", (double)ci.driver_version);
  cuda.Set("cudnnPath", ci.cudnn_path);
  cuda.Set("cublasPath", ci.cublas_path);
  Napi::Array searched = Napi::Array::New(env, ci.searched.size());
  for (size_t i = 0; i < ci.searched.size(); ++i) searched.Set((uint32_t)i, ci.searched[i]);
  cuda.Set("searched", searched);
  cuda.Set("reducedPrecision", reduced_precision_info(env, cuda_reduced_precision_info()));  // where cuda runs
  out.Set(1u, cuda);
  return out;
}

Napi::Value cuda_libraries_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CudaLibraries l = cuda_libraries();
  Napi::Object o = Napi::Object::New(env);
  for (auto [name, lib] : {std::make_pair("cudnn", &l.cudnn), std::make_pair("cublas", &l.cublas)}) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("ok", lib->ok);
    x.Set("version", (double)lib->version);
    x.Set("path", lib->path);
    x.Set("error", lib->error);
    o.Set(name, x);
  }
  Napi::Array searched = Napi::Array::New(env, l.searched.size());
  for (size_t i = 0; i < l.searched.size(); ++i) searched.Set((uint32_t)i, l.searched[i]);
  o.Set("searched", searched);
  return o;
}

Napi::Value build_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("napiVersion", (double)NAPI_VERSION);
  o.Set("cudaCompiled", cuda_probe().compiled);
  o.Set("compiler", __VERSION__);
  return o;
}

Napi::Value set_cuda_options(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value api = o.Get("convApi");
  cuda_set_options(o.Get("allowTF32").ToBoolean().Value(), o.Get("autotune").ToBoolean().Value(),
                   api.IsString() && api.As<Napi::String>().Utf8Value() == "graph");
  return info.Env().Undefined();
}

}  // namespace

void init_info_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "backends", backends);
  export_function(env, exports, "cudaLibraries", cuda_libraries_js);
  export_function(env, exports, "buildInfo", build_info);
  export_function(env, exports, "setCudaOptions", set_cuda_options);
}

}  // namespace cn
