// guardSelfTest(kind) and guardSelfTestAsync(kind): throw the named C++ exception from a
// synchronous export and from an async worker's run(), so test/native-validation.test.ts
// can prove Note [exception guard] (guard.h) turns each into a coded JS error instead of
// std::terminate. kind: 'bad_alloc' | 'length_error' | 'runtime_error' | 'int'.
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "guard.h"

namespace cn {
namespace {

void throw_kind(const std::string& kind) {
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "length_error") {
    std::vector<double> v;
    v.resize(size_t(1) << 62);  // what resizeBilinear's [2^62, 3] once did
  }
  if (kind == "runtime_error") throw std::runtime_error("self-test");
  if (kind == "int") throw 7;
}

std::string kind_of(const Napi::CallbackInfo& info) {
  return info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
}

Napi::Value guard_self_test(const Napi::CallbackInfo& info) {
  throw_kind(kind_of(info));
  return info.Env().Undefined();
}

class ThrowingWorker : public GuardedWorker {
 public:
  ThrowingWorker(Napi::Env env, std::string kind) : GuardedWorker(env, "guardSelfTestAsync"), kind_(std::move(kind)) {}

 protected:
  Status run() override {
    throw_kind(kind_);
    return Status::ok();
  }
  Napi::Value resolve(Napi::Env env) override { return env.Undefined(); }

 private:
  std::string kind_;
};

Napi::Value guard_self_test_async(const Napi::CallbackInfo& info) {
  auto* w = new ThrowingWorker(info.Env(), kind_of(info));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace

void init_guard_selftest_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "guardSelfTest", guard_self_test);
  export_function(env, exports, "guardSelfTestAsync", guard_self_test_async);
}

}  // namespace cn
