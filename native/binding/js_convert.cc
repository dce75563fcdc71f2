// Handle wrapping, error conversion and attribute parsing for the binding.
#include "js_convert.h"

#include <cstring>


namespace cn {

// Note [handle finalizers]: a handle is a plain object wrapping a Handle (napi_wrap) and
// tagged as ours (napi_type_tag_object). Node runs Node-API finalizers only when the event
// loop turns, so with one finalizer per tensor a synchronous training loop
// (tidy(() => opt.minimize(f)) thousands of times) queued one record per tensor it ever made,
// and RSS grew by megabytes per thousand steps without end. release() (dispose) now removes
// the wrap, which deletes the finalizer at once; the finalizer stays only as the safety net
// for a tensor collected without dispose. A tagged object whose wrap is gone is disposed.
namespace {
const napi_type_tag kHandleTag = {0x636e2d68616e646cULL, 0x652d627566666572ULL};  // "cn-handle-buffer"

void delete_handle(napi_env, void* data, void*) { delete static_cast<Handle*>(data); }

// 1: a live handle (*h set), 0: one of ours, released, -1: not a handle.
int handle_state(Napi::Env env, Napi::Value v, Handle** h) {
  if (!v.IsObject()) return -1;
  bool ours = false;
  if (napi_check_object_type_tag(env, v, &kHandleTag, &ours) != napi_ok || !ours) return -1;
  void* data = nullptr;
  if (napi_unwrap(env, v, &data) != napi_ok || data == nullptr) return 0;
  *h = static_cast<Handle*>(data);
  return (*h)->buffer ? 1 : 0;
}
}  // namespace

Napi::Value make_handle(Napi::Env env, BufferPtr buffer) {
  Napi::Object o = Napi::Object::New(env);
  auto* h = new Handle{std::move(buffer)};
  if (napi_type_tag_object(env, o, &kHandleTag) != napi_ok ||
      napi_wrap(env, o, h, delete_handle, nullptr, nullptr) != napi_ok) {
    delete h;
    if (!env.IsExceptionPending()) throw_status(env, internal_error("tensor handle: napi_wrap failed"));
    return env.Undefined();
  }
  return o;
}

bool release_handle(Napi::Env env, Napi::Value v) {
  Handle* h = nullptr;
  if (handle_state(env, v, &h) < 0) return false;
  void* data = nullptr;
  if (napi_remove_wrap(env, v, &data) == napi_ok) delete static_cast<Handle*>(data);
  return true;
}

BufferPtr unwrap_handle(Napi::Env env, Napi::Value v, const char* what) {
  Handle* h = nullptr;
  int state = handle_state(env, v, &h);
  if (state < 0) {
    Napi::TypeError::New(env, std::string(what) + ": expected a tensor handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  if (state == 0) {
    Napi::Error e = Napi::Error::New(env, std::string(what) + ": tensor is disposed");
    e.Set("code", Napi::String::New(env, "ERR_TENSOR_DISPOSED"));
    e.ThrowAsJavaScriptException();
    return nullptr;
  }
  return h->buffer;
}

Napi::Error status_error(Napi::Env env, const Status& s) {
  Napi::Error e = Napi::Error::New(env, s.message());
  e.Set("code", Napi::String::New(env, status_code_name(s.code())));
  return e;
}

Napi::Value throw_status(Napi::Env env, const Status& s) {
  status_error(env, s).ThrowAsJavaScriptException();
  return env.Undefined();
}

Status parse_attrs(Napi::Value v, Attrs* out) {
  if (v.IsUndefined() || v.IsNull()) return Status::ok();
  if (!v.IsObject()) return invalid_argument("attrs: expected an object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value x = o.Get(k);
    AttrValue a;
    if (x.IsNumber()) {
      a.kind = AttrValue::kNumber;
      a.number = x.As<Napi::Number>().DoubleValue();
    } else if (x.IsBoolean()) {
      a.kind = AttrValue::kBool;
      a.boolean = x.As<Napi::Boolean>().Value();
    } else if (x.IsString()) {
      a.kind = AttrValue::kString;
      a.str = x.As<Napi::String>().Utf8Value();
    } else if (x.IsArray()) {
      a.kind = AttrValue::kList;
      Napi::Array arr = x.As<Napi::Array>();
      for (uint32_t j = 0; j < arr.Length(); ++j) {
        Napi::Value e = arr.Get(j);
        if (!e.IsNumber()) return invalid_argument("attrs." + k + ": expected an array of numbers");
        a.list.push_back(e.As<Napi::Number>().DoubleValue());
      }
    } else if (x.IsUndefined()) {
      continue;
    } else {
      return invalid_argument("attrs." + k + ": unsupported value type");
    }
    out->values[k] = std::move(a);
  }
  return Status::ok();
}

Napi::TypedArray new_typed_array_for(Napi::Env env, const BufferPtr& b, void** data) {
  size_t n = (size_t)b->size();
  *data = nullptr;
  Napi::TypedArray out;
  if (b->dtype == DType::kInt32) {
    auto arr = Napi::Int32Array::New(env, n);
    *data = arr.Data();
    out = arr;
  } else if (b->dtype == DType::kUint8) {
    auto arr = Napi::Uint8Array::New(env, n);
    *data = arr.Data();
    out = arr;
  } else {
    auto arr = Napi::Float32Array::New(env, n);
    *data = arr.Data();
    out = arr;
  }
  if (env.IsExceptionPending()) {  // V8 refused the array (too long, or out of memory)
    Napi::Error e = env.GetAndClearPendingException();
    *data = nullptr;
    throw_status(env, out_of_memory("read: cannot make a typed array of " + std::to_string(n) + " " +
                                    dtype_name(b->dtype) + " elements for shape " + shape_str(b->shape) + ": " +
                                    e.Message()));
    return Napi::TypedArray();
  }
  return out;
}

}  // namespace cn
