// Registration functions of the binding files, called from addon.cc.
#pragma once
#include <napi.h>

namespace cn {
void init_tensor_binding(Napi::Env env, Napi::Object exports);
void init_kernel_binding(Napi::Env env, Napi::Object exports);
void init_plan_binding(Napi::Env env, Napi::Object exports);
void init_info_binding(Napi::Env env, Napi::Object exports);
void init_profiler_binding(Napi::Env env, Napi::Object exports);
void init_codec_binding(Napi::Env env, Napi::Object exports);
void init_guard_selftest_binding(Napi::Env env, Napi::Object exports);
}  // namespace cn
