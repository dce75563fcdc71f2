// Module init only: registers the binding's exports.
#include <napi.h>

#include "binding/bindings.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  cn::init_tensor_binding(env, exports);
  cn::init_kernel_binding(env, exports);
  cn::init_plan_binding(env, exports);
  cn::init_info_binding(env, exports);
  cn::init_profiler_binding(env, exports);
  cn::init_codec_binding(env, exports);
  cn::init_guard_selftest_binding(env, exports);
  return exports;
}

NODE_API_MODULE(cudnn_node, Init)
