// Note [exception guard]: no C++ exception reaches Node-API. The addon is built with
// NAPI_DISABLE_CPP_EXCEPTIONS, so an exception leaving a callback (std::bad_alloc from a
// vector, std::length_error, anything a library throws) would std::terminate the process.
// Every export is registered through export_function(), which wraps the callback in one
// try/catch, and every async worker derives from GuardedWorker, whose Execute and OnOK are
// final and wrap the subclass's run() and resolve() the same way. Exceptions become a
// Status: bad_alloc -> ERR_OUT_OF_MEMORY, length_error / invalid_argument / out_of_range ->
// ERR_INVALID_ARGUMENT, anything else -> ERR_INTERNAL; the JS error carries that .code.
// test/native-validation.test.ts checks that native/binding registers nothing around it.
#pragma once
#include <napi.h>

#include <string>

#include "../core/status.h"

namespace cn {

using BindingFn = Napi::Value (*)(const Napi::CallbackInfo&);

// The Status for the exception being handled; call only inside a catch block.
Status current_exception_status(const std::string& where);

// exports[name] = fn, with fn's exceptions turned into JS errors with a .code.
void export_function(Napi::Env env, Napi::Object exports, const char* name, BindingFn fn);

// Throws s as a JS error unless an exception is already pending; returns undefined.
Napi::Value throw_status_once(Napi::Env env, const Status& s);

// An AsyncWorker whose work and completion cannot let an exception escape. Subclasses
// implement run() (worker thread; returns a Status) and resolve() (main thread, after a
// successful run; returns the promise's value). A failed Status rejects the promise with a
// JS error carrying its .code.
class GuardedWorker : public Napi::AsyncWorker {
 public:
  GuardedWorker(Napi::Env env, const char* name);
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  virtual Status run() = 0;
  virtual Napi::Value resolve(Napi::Env env) = 0;

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& e) final;
  Napi::Promise::Deferred deferred_;
  const char* name_;
  Status status_;
};

}  // namespace cn
