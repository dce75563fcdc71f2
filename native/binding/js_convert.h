// N-API glue shared by the binding files: handles (Externals holding a BufferPtr),
// Status -> JS error with .code, attribute parsing, typed-array conversion.
#pragma once
#include <napi.h>

#include "../core/buffer.h"
#include "../ops/kernel.h"
#include "../runtime/backend_registry.h"

namespace cn {

// A JS handle (an object wrapping a Handle) owns one reference to a buffer; release()
// drops it early (dispose()).
struct Handle {
  BufferPtr buffer;
};

Napi::Value make_handle(Napi::Env env, BufferPtr buffer);
// Unpacks a handle; returns nullptr and throws a JS TypeError when v is no live handle.
BufferPtr unwrap_handle(Napi::Env env, Napi::Value v, const char* what);
// Drops v's buffer and its finalizer now (Note [handle finalizers]); false when v is no handle.
bool release_handle(Napi::Env env, Napi::Value v);

// Throws a JS Error carrying .code from a failed Status; returns env.Undefined().
Napi::Value throw_status(Napi::Env env, const Status& s);
Napi::Error status_error(Napi::Env env, const Status& s);

Status parse_attrs(Napi::Value v, Attrs* out);

// A new typed array of b's dtype and element count; *data points at its bytes, so a
// download can write straight into it (one copy, no staging vector: fresh pages fault).
Napi::TypedArray new_typed_array_for(Napi::Env env, const BufferPtr& b, void** data);

}  // namespace cn
