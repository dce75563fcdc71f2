// Buffer: a shaped, typed view of backend memory. Storage is reference counted so that
// reshape can share it; the last reference returns the memory to its backend.
#pragma once
#include <memory>

#include "backend.h"
#include "shape.h"
#include "status.h"

namespace cn {

struct Storage {
  Backend* backend = nullptr;
  void* data = nullptr;
  size_t bytes = 0;
  Storage(Backend* b, void* d, size_t n) : backend(b), data(d), bytes(n) {}
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (backend) {
      backend->release(data, bytes);
      backend->live_buffers--;
      backend->live_bytes -= (int64_t)bytes;
    }
  }
};

struct Buffer {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::kFloat32;

  Backend* backend() const { return storage->backend; }
  int64_t size() const { return num_elements(shape); }
  float* f32() const { return static_cast<float*>(storage->data); }
  int32_t* i32() const { return static_cast<int32_t*>(storage->data); }
  void* raw() const { return storage->data; }
};
using BufferPtr = std::shared_ptr<Buffer>;

// Allocates a new buffer of the given shape and dtype on backend b. The shape is checked
// against Note [size limits] (shape.h); `what` names it in the error ("Fill: output shape").
inline Status make_buffer(BufferPtr* out, Backend* b, const Shape& shape, DType dtype,
                          const std::string& what = "shape") {
  int64_t count = 0;
  CN_RETURN_IF_ERROR(checked_num_elements(shape, what, &count));
  size_t bytes = (size_t)count * dtype_size(dtype);  // < 2^56: no overflow
  void* data = nullptr;
  CN_RETURN_IF_ERROR(b->allocate(&data, bytes));
  auto buf = std::make_shared<Buffer>();
  buf->storage = std::make_shared<Storage>(b, data, bytes);
  buf->shape = shape;
  buf->dtype = dtype;
  b->live_buffers++;
  int64_t now = (b->live_bytes += (int64_t)bytes);
  int64_t peak = b->peak_bytes.load();
  while (now > peak && !b->peak_bytes.compare_exchange_weak(peak, now)) {
  }
  *out = std::move(buf);
  return Status::ok();
}

// A new view of the same storage with another shape of equal element count.
inline BufferPtr view_buffer(const BufferPtr& src, const Shape& shape) {
  auto buf = std::make_shared<Buffer>();
  buf->storage = src->storage;
  buf->shape = shape;
  buf->dtype = src->dtype;
  return buf;
}

}  // namespace cn
