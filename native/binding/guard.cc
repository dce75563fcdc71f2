// The exception guard of every binding entry point (Note [exception guard] in guard.h).
#include "guard.h"

#include <new>
#include <stdexcept>

#include "js_convert.h"

namespace cn {

Status current_exception_status(const std::string& where) {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    return out_of_memory(where + ": out of host memory (" + e.what() + ")");
  } catch (const std::length_error& e) {
    return invalid_argument(where + ": a size is too large (" + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    return invalid_argument(where + ": " + e.what());
  } catch (const std::out_of_range& e) {
    return invalid_argument(where + ": a value is out of range (" + e.what() + ")");
  } catch (const std::exception& e) {
    return internal_error(where + ": internal error: " + e.what());
  } catch (...) {
    return internal_error(where + ": internal error: unknown exception");
  }
}

Napi::Value throw_status_once(Napi::Env env, const Status& s) {
  if (!env.IsExceptionPending()) throw_status(env, s);
  return env.Undefined();
}

void export_function(Napi::Env env, Napi::Object exports, const char* name, BindingFn fn) {
  auto guarded = [fn, name](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Env e = info.Env();
    try {
      return fn(info);
    } catch (...) {
      return throw_status_once(e, current_exception_status(name));
    }
  };
  exports.Set(name, Napi::Function::New(env, guarded, name));
}

GuardedWorker::GuardedWorker(Napi::Env env, const char* name)
    : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), name_(name) {}

void GuardedWorker::Execute() {
  try {
    status_ = run();
  } catch (...) {
    status_ = current_exception_status(name_);
  }
}

void GuardedWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (status_.is_ok()) {
    try {
      Napi::Value v = resolve(env);
      if (!env.IsExceptionPending()) {
        deferred_.Resolve(v);
        return;
      }
      // A Node-API call in resolve() failed: reject with its error.
      Napi::Error pending = env.GetAndClearPendingException();
      deferred_.Reject(pending.Value());
      return;
    } catch (...) {
      status_ = current_exception_status(name_);
    }
  }
  deferred_.Reject(status_error(env, status_).Value());
}

void GuardedWorker::OnError(const Napi::Error& e) { deferred_.Reject(e.Value()); }

}  // namespace cn
