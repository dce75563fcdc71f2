// Tensor storage exports: create from a typed array, read (sync and async), write in
// place, release, shape/dtype, and per-backend memory accounting.
#include <cstring>

#include "bindings.h"
#include "guard.h"
#include "js_convert.h"

namespace cn {
namespace {

// fromTypedArray(backend, typedArray, shape) -> handle
Napi::Value from_typed_array(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Status why;
  Backend* b = backend_by_name(info[0].As<Napi::String>().Utf8Value(), &why);
  if (!b) return throw_status(env, why);
  if (!info[1].IsTypedArray()) return throw_status(env, invalid_argument("values: expected a typed array"));
  Napi::TypedArray arr = info[1].As<Napi::TypedArray>();
  DType dt;
  switch (arr.TypedArrayType()) {
    case napi_float32_array: dt = DType::kFloat32; break;
    case napi_int32_array: dt = DType::kInt32; break;
    case napi_uint8_array: dt = DType::kUint8; break;
    default: return throw_status(env, invalid_argument("values: expected Float32Array, Int32Array or Uint8Array"));
  }
  Napi::Array js_shape = info[2].As<Napi::Array>();
  Shape shape;
  for (uint32_t i = 0; i < js_shape.Length(); ++i) shape.push_back((int64_t)js_shape.Get(i).As<Napi::Number>().Int64Value());
  int64_t count = 0;
  Status s = checked_num_elements(shape, "tensor: shape", &count);
  if (!s.is_ok()) return throw_status(env, s);
  if ((size_t)count != arr.ElementLength())
    return throw_status(env, invalid_argument("tensor: shape " + shape_str(shape) + " needs " + std::to_string(count) +
                                              " values but received " + std::to_string(arr.ElementLength())));
  BufferPtr buf;
  s = make_buffer(&buf, b, shape, dt, "tensor: shape");
  if (!s.is_ok()) return throw_status(env, s);
  const char* src = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  auto serial = serial_lock(b);
  if (buf->storage->bytes) s = b->upload(buf->raw(), src, buf->storage->bytes);
  if (!s.is_ok()) return throw_status(env, s);
  return make_handle(env, std::move(buf));
}

// write(handle, typedArray): overwrite the buffer's contents in place.
Napi::Value write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferPtr buf = unwrap_handle(env, info[0], "write");
  if (!buf) return env.Undefined();
  Napi::TypedArray arr = info[1].As<Napi::TypedArray>();
  if (arr.ByteLength() != buf->storage->bytes)
    return throw_status(env, invalid_argument("write: expected " + std::to_string(buf->storage->bytes) + " bytes but received " +
                                              std::to_string(arr.ByteLength())));
  const char* src = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  auto serial = serial_lock(buf->backend());
  Status s = buf->backend()->upload(buf->raw(), src, buf->storage->bytes);
  if (!s.is_ok()) return throw_status(env, s);
  return env.Undefined();
}

Napi::Value read_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferPtr buf = unwrap_handle(env, info[0], "dataSync");
  if (!buf) return env.Undefined();
  void* data = nullptr;
  Napi::TypedArray out = new_typed_array_for(env, buf, &data);
  if (env.IsExceptionPending() || (data == nullptr && buf->size() > 0)) return env.Undefined();
  const size_t bytes = (size_t)buf->size() * dtype_size(buf->dtype);
  auto serial = serial_lock(buf->backend());
  Status s = bytes == 0 ? Status::ok() : buf->backend()->download(data, buf->raw(), bytes);
  if (!s.is_ok()) return throw_status(env, s);
  return out;
}

class ReadWorker : public GuardedWorker {
 public:
  // The typed array is made here, on the main thread, and kept alive by a reference; the
  // worker downloads into its bytes (array buffers do not move).
  ReadWorker(Napi::Env env, BufferPtr buf, Napi::TypedArray out, void* data)
      : GuardedWorker(env, "data"), buf_(std::move(buf)), data_(data) {
    out_ = Napi::Persistent(out);
  }

 protected:
  Status run() override {
    const size_t bytes = (size_t)buf_->size() * dtype_size(buf_->dtype);
    auto serial = serial_lock(buf_->backend());
    return bytes ? buf_->backend()->download(data_, buf_->raw(), bytes) : Status::ok();
  }
  Napi::Value resolve(Napi::Env) override { return out_.Value(); }

 private:
  BufferPtr buf_;
  Napi::Reference<Napi::TypedArray> out_;
  void* data_ = nullptr;
};

Napi::Value read_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferPtr buf = unwrap_handle(env, info[0], "data");
  if (!buf) return env.Undefined();
  void* data = nullptr;
  Napi::TypedArray out = new_typed_array_for(env, buf, &data);
  if (env.IsExceptionPending() || data == nullptr) return env.Undefined();
  auto* w = new ReadWorker(env, buf, out, data);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value release(const Napi::CallbackInfo& info) {
  release_handle(info.Env(), info[0]);
  return info.Env().Undefined();
}

Napi::Value shape_of(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferPtr buf = unwrap_handle(env, info[0], "shape");
  if (!buf) return env.Undefined();
  Napi::Array a = Napi::Array::New(env, buf->shape.size());
  for (size_t i = 0; i < buf->shape.size(); ++i) a.Set((uint32_t)i, Napi::Number::New(env, (double)buf->shape[i]));
  return a;
}

Napi::Value dtype_of(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferPtr buf = unwrap_handle(env, info[0], "dtype");
  if (!buf) return env.Undefined();
  return Napi::String::New(env, buf->dtype == DType::kUint8 ? "bool" : dtype_name(buf->dtype));
}

Napi::Value backend_of(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BufferPtr buf = unwrap_handle(env, info[0], "backend");
  if (!buf) return env.Undefined();
  return Napi::String::New(env, buf->backend()->name());
}

Napi::Value memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Status why;
  Backend* b = backend_by_name(info[0].As<Napi::String>().Utf8Value(), &why);
  if (!b) return throw_status(env, why);
  Napi::Object o = Napi::Object::New(env);
  o.Set("numBuffers", Napi::Number::New(env, (double)b->live_buffers.load()));
  o.Set("numBytes", Napi::Number::New(env, (double)b->live_bytes.load()));
  o.Set("peakBytes", Napi::Number::New(env, (double)b->peak_bytes.load()));
  return o;
}

}  // namespace

void init_tensor_binding(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "fromTypedArray", from_typed_array);
  export_function(env, exports, "write", write);
  export_function(env, exports, "readSync", read_sync);
  export_function(env, exports, "read", read_async);
  export_function(env, exports, "release", release);
  export_function(env, exports, "shape", shape_of);
  export_function(env, exports, "dtype", dtype_of);
  export_function(env, exports, "backendOf", backend_of);
  export_function(env, exports, "memory", memory);
}

}  // namespace cn
