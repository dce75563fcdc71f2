// Handle wrapping, error conversion and attribute parsing for the binding.
#include "js_convert.h"

#include <cstring>

#include "../cpu/cpu_backend.h"
#include "../cuda/cuda_probe.h"

namespace cn {

Napi::Value make_handle(Napi::Env env, BufferPtr buffer) {
  auto* h = new Handle{std::move(buffer)};
  return Napi::External<Handle>::New(env, h, [](Napi::Env, Handle* p) { delete p; });
}

BufferPtr unwrap_handle(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsExternal()) {
    Napi::TypeError::New(env, std::string(what) + ": expected a tensor handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  Handle* h = v.As<Napi::External<Handle>>().Data();
  if (!h || !h->buffer) {
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

Backend* backend_by_name(const std::string& name, Status* why) {
  if (name == "cpu") return cpu_backend();
  if (name == "cuda") {
    Backend* b = cuda_backend();
    if (!b) *why = unavailable("cuda backend is not available: " + cuda_probe().reason);
    return b;
  }
  *why = invalid_argument("backend: expected 'cpu' or 'cuda' but received '" + name + "'");
  return nullptr;
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
