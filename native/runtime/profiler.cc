// Kernel profiler: see profiler.h and Note [kernel profiling].
#include "profiler.h"
#include "../ops/typed_kernels.h"

#include "../core/kernel_note.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

namespace cn {
namespace profiler {
namespace {

// A kernel whose device time awaits its backend's synchronization.
struct Pending {
  Backend* backend;
  int kernel;
  int64_t from, to;
  int64_t record;  // index into records, or -1 when only the totals keep it
};

struct State {
  std::mutex mu;
  std::atomic<bool> on{false};
  Report report;
  std::vector<Pending> pending;
};

State& state() {
  static State* s = new State();  // never destroyed: kernels may run during process exit
  return *s;
}

KernelTotal& total(Report& r, int kernel) {
  if ((int)r.totals.size() <= kernel) r.totals.resize(kernel + 1);
  r.totals[kernel].kernel = kernel;
  return r.totals[kernel];
}

// Synchronizes b and moves its pending kernels' device times into the report. Holds s.mu;
// the caller holds b's serial lock.
Status resolve(State& s, Backend* b) {
  Status sync = b->synchronize();
  Status first;
  size_t keep = 0;
  for (size_t i = 0; i < s.pending.size(); ++i) {
    Pending p = s.pending[i];
    if (p.backend != b) {
      s.pending[keep++] = p;
      continue;
    }
    double ms = 0;
    Status e = sync.is_ok() ? b->timer_elapsed_ms(p.from, p.to, &ms) : sync;
    if (!e.is_ok()) {
      if (first.is_ok()) first = e;
      continue;
    }
    total(s.report, p.kernel).device_ms += ms;
    if (p.record >= 0) s.report.records[p.record].device_ms = ms;
  }
  s.pending.resize(keep);
  b->timer_reset();
  return first;
}

int64_t pending_on(const State& s, Backend* b) {
  int64_t n = 0;
  for (const Pending& p : s.pending) n += p.backend == b;
  return n;
}

}  // namespace

bool enabled() { return state().on.load(std::memory_order_relaxed); }

Status run_kernel(int id, KernelContext& ctx) {
  const KernelDef& def = kernel_table()[id];
  ctx.kernel = def.name.c_str();
  State& s = state();
  if (!enabled()) return dispatch_kernel(id, ctx);
  Backend* b = ctx.backend;
  int64_t from = 0, to = 0;
  if (b) CN_RETURN_IF_ERROR(b->timer_mark(&from));
  take_kernel_note();  // whatever an unprofiled kernel on this thread left
  auto t0 = std::chrono::steady_clock::now();
  Status status = dispatch_kernel(id, ctx);
  double host_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::string note = take_kernel_note();
  if (b) {
    Status m = b->timer_mark(&to);
    if (status.is_ok() && !m.is_ok()) status = m;
  }
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.on) return status;  // stopped meanwhile
  KernelTotal& t = total(s.report, id);
  t.calls++;
  t.host_ms += host_ms;
  int64_t record = -1;
  if (s.report.records.size() < kMaxRecords) {
    record = (int64_t)s.report.records.size();
    KernelRecord r;
    r.kernel = id;
    r.backend = b ? b->name() : "";
    r.host_ms = host_ms;
    r.device_ms = host_ms;  // until resolve() sets the backend's own measure
    r.note = std::move(note);
    for (const BufferPtr& x : ctx.inputs) r.inputs.push_back(x ? x->shape : Shape{});
    for (const BufferPtr& y : ctx.outputs) r.outputs.push_back(y ? y->shape : Shape{});
    s.report.records.push_back(std::move(r));
  } else {
    s.report.dropped++;
  }
  if (!b) {
    t.device_ms += host_ms;
    return status;
  }
  s.pending.push_back({b, id, from, to, record});
  if (s.pending.size() * 2 >= kMaxPendingMarks && pending_on(s, b) * 2 >= (int64_t)kMaxPendingMarks) {
    Status r = resolve(s, b);
    if (status.is_ok() && !r.is_ok()) status = r;
  }
  return status;
}

Status start() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.on) return invalid_argument("profile: expected no profile in progress but received a nested profile() call");
  s.report = Report();
  s.pending.clear();
  s.on = true;
  g_kernel_notes_wanted = true;
  return Status::ok();
}

Status stop(Report* out) {
  State& s = state();
  std::vector<Backend*> backends;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.on) return invalid_argument("profile: expected a profile in progress but received none");
    s.on = false;
    g_kernel_notes_wanted = false;
    for (const Pending& p : s.pending)
      if (std::find(backends.begin(), backends.end(), p.backend) == backends.end()) backends.push_back(p.backend);
  }
  // Lock order as in run_kernel: the backend's serial lock, then the profiler's.
  Status first;
  for (Backend* b : backends) {
    auto serial = serial_lock(b);
    std::lock_guard<std::mutex> lock(s.mu);
    Status r = resolve(s, b);
    if (first.is_ok() && !r.is_ok()) first = r;
  }
  std::lock_guard<std::mutex> lock(s.mu);
  std::vector<KernelTotal> totals;
  for (const KernelTotal& t : s.report.totals)
    if (t.calls) totals.push_back(t);
  s.report.totals = std::move(totals);
  *out = std::move(s.report);
  s.report = Report();
  s.pending.clear();
  return first;
}

}  // namespace profiler
}  // namespace cn
