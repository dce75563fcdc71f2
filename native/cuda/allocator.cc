// CachingAllocator (see allocator.h).
#include "allocator.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

namespace cn {
namespace cuda {

namespace {

constexpr size_t kSmall = 1 << 20;      // up to 1 MiB: round to 512 B
constexpr size_t kLargeRound = 2 << 20;  // above: round to 2 MiB

// Note [allocation rounding]: sizes are rounded so that blocks of near sizes are shared
// (a batch of 256 and one of 255 reuse each other's buffers), and a cached block is taken
// for a request when it is at most 25% larger, so that one big block does not pin memory
// for many small tensors.
size_t round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;  // a unique, releasable pointer even for empty tensors
  if (bytes <= kSmall) return (bytes + 511) / 512 * 512;
  return (bytes + kLargeRound - 1) / kLargeRound * kLargeRound;
}

std::string human(size_t b) {
  char buf[64];
  if (b >= (1ull << 30)) snprintf(buf, sizeof buf, "%.2f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20)) snprintf(buf, sizeof buf, "%.1f MiB", b / double(1ull << 20));
  else snprintf(buf, sizeof buf, "%zu bytes", b);
  return buf;
}

}  // namespace

Status CachingAllocator::allocate(void** ptr, size_t bytes) {
  *ptr = nullptr;
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_.lower_bound(size);
  if (it != free_.end() && it->first - size <= size / 4) {
    *ptr = it->second;
    size = it->first;
    free_.erase(it);
    cached_ -= size;
  } else {
    cudaError_t e = cudaMalloc(ptr, size);
    if (e == cudaErrorMemoryAllocation && cached_ > 0) {
      cudaGetLastError();
      empty_cache_locked();  // give the cache back and try once more
      e = cudaMalloc(ptr, size);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      *ptr = nullptr;
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      std::string m = "cuda: out of device memory allocating " + human(bytes) + " (" +
                      std::to_string(bytes) + " bytes): cudaMalloc: " + cudaGetErrorString(e) +
                      "; " + human(in_use_total_) + " held by live tensors, device has " +
                      human(free_b) + " free of " + human(total_b);
      return e == cudaErrorMemoryAllocation ? out_of_memory(m) : backend_error(m);
    }
  }
  in_use_[*ptr] = size;
  in_use_total_ += size;
  return Status::ok();
}

void CachingAllocator::release(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_use_.find(ptr);
  if (it == in_use_.end()) return;  // not ours: ignore rather than corrupt the lists
  free_.emplace(it->second, ptr);
  cached_ += it->second;
  in_use_total_ -= it->second;
  in_use_.erase(it);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
  for (auto& kv : free_) cudaFree(kv.second);  // cudaFree waits for queued work first
  cudaGetLastError();
  free_.clear();
  cached_ = 0;
}

size_t CachingAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_;
}

size_t CachingAllocator::in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_total_;
}

}  // namespace cuda
}  // namespace cn
