// CpuBackend memory methods (host memory, 64-byte aligned), the process-wide CpuBackend,
// and the oneDNN plumbing declared in primitive_cache.h: engine, per-thread stream,
// per-thread scratch, the primitive cache and run_primitive.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "../core/kernel_note.h"
#include "cpu_backend.h"
#include "dnnl_check.h"
#include "primitive_cache.h"

namespace cn {

Backend* cpu_backend() {
  static CpuBackend backend;
  return &backend;
}

namespace {

constexpr size_t kAlign = 64;

// Rounds up to a multiple of kAlign (std::aligned_alloc requires it); 0 on overflow.
size_t aligned_size(size_t bytes) {
  if (bytes == 0) return kAlign;  // a unique, freeable pointer even for empty buffers
  if (bytes > SIZE_MAX - (kAlign - 1)) return 0;
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

// Note [host block cache]: the first write to a fresh page costs a page fault, and in a
// virtual machine that is expensive (about 18 us per 4 KiB page measured on the Firecracker
// development VM): malloc serves large blocks from fresh mmaps, so a 3 MB conv output cost
// 7-12 ms of faults, more than the conv that writes it (0.5 ms). Released blocks of at least
// kCacheMin bytes are kept per exact (aligned) size and handed out again, already faulted in;
// a training loop allocates the same sizes every step. At most kCacheLimit bytes are kept;
// beyond that blocks go back to free(). memory() counts live buffers only, not the cache.
constexpr size_t kCacheMin = size_t(64) << 10;
constexpr size_t kCacheLimit = size_t(1) << 30;

struct BlockCache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> blocks;  // aligned size -> free blocks
  size_t cached = 0;
};
// Never destroyed: buffers may be released during static destruction at process exit.
BlockCache& block_cache() {
  static BlockCache* c = new BlockCache();
  return *c;
}

}  // namespace

Status CpuBackend::allocate(void** ptr, size_t bytes) {
  if (ptr == nullptr) return invalid_argument("cpu allocate: null output pointer");
  *ptr = nullptr;
  size_t n = aligned_size(bytes);
  if (n >= kCacheMin) {
    BlockCache& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.blocks.find(n);
    if (it != c.blocks.end() && !it->second.empty()) {
      *ptr = it->second.back();
      it->second.pop_back();
      c.cached -= n;
      return Status::ok();
    }
  }
  void* p = n ? std::aligned_alloc(kAlign, n) : nullptr;
  if (p == nullptr && n >= kCacheMin) {
    // Out of memory: give the cached blocks back and try once more.
    BlockCache& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& kv : c.blocks)
      for (void* b : kv.second) std::free(b);
    c.blocks.clear();
    c.cached = 0;
    p = std::aligned_alloc(kAlign, n);
  }
  if (p == nullptr)
    return out_of_memory("cpu: could not allocate " + std::to_string(bytes) + " bytes");
  *ptr = p;
  return Status::ok();
}

void CpuBackend::release(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  size_t n = aligned_size(bytes);
  if (n >= kCacheMin) {
    BlockCache& c = block_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.cached + n <= kCacheLimit) {
      c.blocks[n].push_back(ptr);
      c.cached += n;
      return;
    }
  }
  std::free(ptr);
}

namespace {

Status checked_memcpy(const char* op, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return Status::ok();
  if (dst == nullptr || src == nullptr)
    return invalid_argument(std::string("cpu ") + op + ": null pointer for " +
                            std::to_string(bytes) + " bytes");
  if (dst != src) std::memmove(dst, src, bytes);
  return Status::ok();
}

}  // namespace

Status CpuBackend::upload(void* dst, const void* src_host, size_t bytes) {
  return checked_memcpy("upload", dst, src_host, bytes);
}

Status CpuBackend::download(void* dst_host, const void* src, size_t bytes) {
  return checked_memcpy("download", dst_host, src, bytes);
}

Status CpuBackend::copy(void* dst, const void* src, size_t bytes) {
  return checked_memcpy("copy", dst, src, bytes);
}

// Every cpu primitive completes before its method returns (run_primitive waits).
Status CpuBackend::synchronize() { return Status::ok(); }

// Work is synchronous, so a mark is the host's steady clock in nanoseconds; nothing to keep.
Status CpuBackend::timer_mark(int64_t* mark) {
  *mark = std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now().time_since_epoch())
              .count();
  return Status::ok();
}

Status CpuBackend::timer_elapsed_ms(int64_t from, int64_t to, double* ms) {
  *ms = (double)(to - from) / 1e6;
  return Status::ok();
}

void CpuBackend::timer_reset() {}

namespace cpu {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

namespace {

struct ScratchArena {
  void* ptr[kNumScratchSlots] = {};
  size_t bytes[kNumScratchSlots] = {};
  ~ScratchArena() {
    for (void* p : ptr) std::free(p);
  }
};

}  // namespace

// Note [per-thread scratch]: scratchpads, reordered weights and workspaces are needed on
// every call; allocating them per call would page-fault fresh memory each step, so each
// thread keeps its largest request per slot. This memory is not counted in live_bytes.
void* thread_scratch(int slot, size_t bytes) {
  thread_local ScratchArena arena;
  if (slot < 0 || slot >= kNumScratchSlots) throw std::logic_error("bad scratch slot");
  if (arena.bytes[slot] < bytes || arena.ptr[slot] == nullptr) {
    std::free(arena.ptr[slot]);
    arena.ptr[slot] = nullptr;
    arena.bytes[slot] = 0;
    size_t n = aligned_size(bytes);
    void* p = n ? std::aligned_alloc(kAlign, n) : nullptr;
    if (p == nullptr) throw std::bad_alloc();
    arena.ptr[slot] = p;
    arena.bytes[slot] = n;
  }
  return arena.ptr[slot];
}

namespace {

// Note [same physical layout]: descriptors can differ while describing the same bytes,
// e.g. nchw and nhwc when C = 1 (only the stride of an extent-1 axis differs). Treating
// those as equal saves a full copy of the activations per call.
bool same_layout(const dnnl::memory::desc& a, const dnnl::memory::desc& b) {
  if (a == b) return true;
  const dnnl_memory_desc_t &x = a.data, &y = b.data;
  if (x.ndims != y.ndims || x.data_type != y.data_type || x.offset0 != y.offset0 ||
      x.format_kind != dnnl_blocked || y.format_kind != dnnl_blocked)
    return false;
  const dnnl_blocking_desc_t &bx = x.format_desc.blocking, &by = y.format_desc.blocking;
  if (bx.inner_nblks != 0 || by.inner_nblks != 0) return false;
  for (int i = 0; i < x.ndims; ++i) {
    if (x.dims[i] != y.dims[i] || x.padded_dims[i] != y.padded_dims[i]) return false;
    if (x.dims[i] > 1 && bx.strides[i] != by.strides[i]) return false;
  }
  return true;
}

}  // namespace

void CachedPrimitive::add_operand(int arg, const dnnl::memory::desc& user_md,
                                  const dnnl::memory::desc& prim_md, bool output) {
  Operand o;
  o.arg = arg;
  o.user_md = user_md;
  o.prim_md = prim_md;
  o.output = output;
  o.needs_reorder = !same_layout(user_md, prim_md);
  if (o.needs_reorder) {
    dnnl::engine& eng = cpu_engine();
    dnnl::reorder::primitive_desc pd =
        output ? CN_DNNL(dnnl::reorder::primitive_desc(eng, prim_md, eng, user_md))
               : CN_DNNL(dnnl::reorder::primitive_desc(eng, user_md, eng, prim_md));
    o.reorder = CN_DNNL(dnnl::reorder(pd));
  }
  operands.push_back(std::move(o));
}

// Note [user scratchpad]: cached primitives are shared by all threads. With
// scratchpad_mode::user each execution brings its own scratchpad (from thread_scratch),
// so the same primitive can run on the main thread and a worker thread at once.
void run_primitive(const CachedPrimitive& cp, std::initializer_list<ArgPtr> args) {
  if (kernel_notes_wanted()) kernel_note("oneDNN " + cp.impl);
  dnnl::engine& eng = cpu_engine();
  dnnl::stream& s = cpu_stream();
  std::unordered_map<int, dnnl::memory> exec_args;
  struct PendingOutput {
    const Operand* op;
    dnnl::memory prim_mem, user_mem;
  };
  PendingOutput pending[kWorkspaceSlot - kOperandSlot0];
  int n_pending = 0;
  int slot = kOperandSlot0;
  for (const Operand& o : cp.operands) {
    const void* user = nullptr;
    bool found = false;
    for (const ArgPtr& a : args)
      if (a.arg == o.arg) user = a.ptr, found = true;
    if (!found) throw std::logic_error("run_primitive: no pointer for argument " + std::to_string(o.arg));
    if (!o.needs_reorder) {  // the user's bytes already have the primitive's layout
      exec_args[o.arg] = CN_DNNL(dnnl::memory(o.prim_md, eng, const_cast<void*>(user)));
      continue;
    }
    dnnl::memory user_mem = CN_DNNL(dnnl::memory(o.user_md, eng, const_cast<void*>(user)));
    if (slot >= kWorkspaceSlot) throw std::logic_error("run_primitive: too many reordered operands");
    void* buf = thread_scratch(slot++, o.prim_md.get_size());
    dnnl::memory prim_mem = CN_DNNL(dnnl::memory(o.prim_md, eng, buf));
    if (o.output) {
      pending[n_pending++] = {&o, prim_mem, user_mem};
    } else {
      CN_DNNL(o.reorder.execute(s, user_mem, prim_mem));
    }
    exec_args[o.arg] = prim_mem;
  }
  size_t scratch_bytes = cp.scratchpad_md.get_size();
  if (scratch_bytes > 0) {
    void* buf = thread_scratch(kScratchpadSlot, scratch_bytes);
    exec_args[DNNL_ARG_SCRATCHPAD] = CN_DNNL(dnnl::memory(cp.scratchpad_md, eng, buf));
  }
  CN_DNNL(cp.prim.execute(s, exec_args));
  for (int i = 0; i < n_pending; ++i)
    CN_DNNL(pending[i].op->reorder.execute(s, pending[i].prim_mem, pending[i].user_mem));
  CN_DNNL(s.wait());
}

std::shared_ptr<const CachedPrimitive> cached_primitive(
    const std::string& key, const std::function<std::shared_ptr<const CachedPrimitive>()>& make) {
  static LruCache<CachedPrimitive> cache(1024);
  return cache.get_or_create(key, make);
}

}  // namespace cpu
}  // namespace cn
