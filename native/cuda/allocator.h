// CachingAllocator: device memory for tensors and workspaces. Freed blocks go to free lists
// by size and are handed out again without cudaMalloc/cudaFree (both synchronize the
// device). Safe because the backend uses one stream: a block released by the host is reused
// only by work queued after everything that used it.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

#include "../core/status.h"

namespace cn {
namespace cuda {

class CachingAllocator {
 public:
  Status allocate(void** ptr, size_t bytes);
  void release(void* ptr);
  void empty_cache();  // returns every cached block to the driver
  size_t cached_bytes() const;
  size_t in_use_bytes() const;

 private:
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;         // block size -> block
  std::unordered_map<void*, size_t> in_use_;  // block -> block size
  size_t cached_ = 0, in_use_total_ = 0;
  void empty_cache_locked();
};

}  // namespace cuda
}  // namespace cn
