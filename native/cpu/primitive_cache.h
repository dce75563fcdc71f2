// oneDNN plumbing shared by the cpu op files: the process-wide engine, one stream per
// calling thread, per-thread scratch memory, and a thread-safe LRU cache of ready-to-run
// primitives (CachedPrimitive) keyed by a string that spells out every shape/param field.
// Creating a oneDNN primitive costs tens of microseconds to milliseconds; executing one
// is cheap, so every op file goes through cached_primitive().
// Definitions live in memory.cc. Functions here may throw (dnnl::error, std::bad_alloc);
// callers run inside dnnl_guard (dnnl_check.h).
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cn {
namespace cpu {

// The CPU engine, created on first use.
dnnl::engine& cpu_engine();

// Note [one stream per thread]: eager ops run on the JS main thread while compiled plans
// run on libuv worker threads. A dnnl::stream must not be used by two threads at once,
// so each calling thread gets its own (thread_local) stream on the shared engine.
dnnl::stream& cpu_stream();

// Per-thread scratch memory, one growable 64-byte aligned block per slot. The returned
// pointer stays valid until the same thread asks the same slot for more bytes. Throws
// std::bad_alloc when memory runs out.
// Note [scratch slots]: a primitive's scratchpad, each reordered operand, and the max-pool
// workspace must be alive at the same time, so each gets its own slot.
enum ScratchSlot : int {
  kScratchpadSlot = 0,
  kOperandSlot0 = 1,  // operands needing a layout change use kOperandSlot0 + i
  kWorkspaceSlot = 6,
  kTempSlot = 7,
  kMaskedGradSlot = 8,  // batch norm + relu: the gradient through the relu mask
  kNumScratchSlots = 9,
};
void* thread_scratch(int slot, size_t bytes);

// One primitive argument: the public (user) layout and the layout the primitive chose.
// When they differ, `reorder` converts user -> primitive (inputs) or primitive -> user
// (outputs) around each execution.
struct Operand {
  int arg = 0;  // DNNL_ARG_*
  dnnl::memory::desc user_md, prim_md;
  bool output = false;
  bool needs_reorder = false;
  dnnl::reorder reorder;
};

struct CachedPrimitive {
  dnnl::primitive prim;
  std::vector<Operand> operands;
  dnnl::memory::desc scratchpad_md;  // primitives are created with scratchpad_mode::user
  std::string impl;                  // implementation name, for diagnostics and benchmarks

  // Adds an operand, creating the reorder when the layouts differ.
  void add_operand(int arg, const dnnl::memory::desc& user_md, const dnnl::memory::desc& prim_md,
                   bool output);
  const Operand* find(int arg) const {
    for (const Operand& o : operands)
      if (o.arg == arg) return &o;
    return nullptr;
  }
};

// A CachedPrimitive holding prim, built from pd, with pd's implementation name and
// scratchpad; the caller adds the operands.
template <class PrimitiveDesc>
std::shared_ptr<CachedPrimitive> new_cached_primitive(dnnl::primitive prim, const PrimitiveDesc& pd) {
  auto cp = std::make_shared<CachedPrimitive>();
  cp->prim = std::move(prim);
  cp->impl = pd.impl_info_str();
  cp->scratchpad_md = pd.scratchpad_desc();
  return cp;
}

struct ArgPtr {
  int arg;
  const void* ptr;
};

// Executes `cp` on this thread's stream with one user pointer per operand (matched by
// DNNL_ARG_*), reordering operands whose layouts differ and supplying the scratchpad.
// Returns after the work is complete.
void run_primitive(const CachedPrimitive& cp, std::initializer_list<ArgPtr> args);

// Thread-safe LRU map from a key to an immutable shared value. Values are handed out as
// shared_ptr, so eviction never invalidates one that another thread is still running.
template <class V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // Returns the cached value for `key`, creating it with `make()` (outside the lock) when
  // absent. `make` may throw; nothing is inserted then.
  std::shared_ptr<const V> get_or_create(const std::string& key,
                                         const std::function<std::shared_ptr<const V>()>& make) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) {
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
      }
    }
    std::shared_ptr<const V> value = make();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {  // another thread created it meanwhile; keep theirs
      order_.splice(order_.begin(), order_, it->second);
      return it->second->second;
    }
    order_.emplace_front(key, value);
    map_.emplace(key, order_.begin());
    while (map_.size() > capacity_) {
      map_.erase(order_.back().first);
      order_.pop_back();
    }
    return value;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const V>>;
  size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> order_;
  std::unordered_map<std::string, typename std::list<Entry>::iterator> map_;
};

// The process-wide primitive cache shared by all cpu op files (keys start with the op name).
std::shared_ptr<const CachedPrimitive> cached_primitive(
    const std::string& key, const std::function<std::shared_ptr<const CachedPrimitive>()>& make);

// Builds a cache key: cache_key("conv_fwd", n, h, w) -> "conv_fwd:n,h,w,".
inline void append_key(std::string*) {}
template <class T, class... Rest>
void append_key(std::string* s, T first, Rest... rest) {
  *s += std::to_string(first);
  *s += ',';
  append_key(s, rest...);
}
template <class... T>
std::string cache_key(const char* op, T... fields) {
  std::string s(op);
  s += ':';
  append_key(&s, fields...);
  return s;
}

// Primitive attributes every cpu primitive uses (scratchpad supplied by run_primitive).
inline dnnl::primitive_attr default_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

}  // namespace cpu
}  // namespace cn
