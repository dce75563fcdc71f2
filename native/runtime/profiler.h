// Kernel profiler (cn.profile in JS): while it is on, every kernel run, eager or as a plan
// step, is timed on the host and on its backend's own clock, with its input and output
// shapes.
//
// Note [kernel profiling]: a kernel's device time comes from two backend timer marks
// queued around it (Backend::timer_mark: the steady clock on cpu, CUDA events on cuda),
// resolved once the backend is synchronized, so an asynchronous backend reports the
// device's work without stopping between kernels. The host time is the launch: on cuda,
// a kernel whose host time exceeds its device time is launch-bound. Marks are resolved at
// stop() and whenever kMaxPendingMarks are queued on one backend (which synchronizes it
// then, once per thousand kernels). At most kMaxRecords kernels are kept one by one; the
// per-name totals count every kernel. While profiling, kernels leave a note of the
// implementation they ran (core/kernel_note.h: the oneDNN primitive, the cuDNN algorithm or
// engine), kept as the record's note.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../ops/kernel.h"

namespace cn {
namespace profiler {

constexpr size_t kMaxPendingMarks = 2048;
constexpr size_t kMaxRecords = size_t(1) << 20;

struct KernelRecord {
  int kernel = -1;
  std::string backend;
  double host_ms = 0, device_ms = 0;
  std::vector<Shape> inputs, outputs;
  std::string note;  // the implementation the kernel ran, where it says
};

struct KernelTotal {
  int kernel = -1;
  int64_t calls = 0;
  double host_ms = 0, device_ms = 0;
};

struct Report {
  std::vector<KernelRecord> records;  // in the order the kernels were run
  std::vector<KernelTotal> totals;    // one per kernel name that ran
  int64_t dropped = 0;                // kernels counted in totals but not kept in records
};

// Runs kernel `id` on ctx (kernel_table()[id].fn), timing it while profiling is on. The
// caller holds ctx.backend's serial lock, as for any kernel run.
Status run_kernel(int id, KernelContext& ctx);

// Starts profiling; refused while a profile is already being taken.
Status start();
// Stops profiling, resolves every pending mark and hands over what was recorded.
Status stop(Report* out);
bool enabled();

}  // namespace profiler
}  // namespace cn
