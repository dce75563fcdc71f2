// Plan execution: binds constants and feeds to slots, runs the kernels in order,
// keeps intermediates for reuse and hands fetched buffers to the caller.
#include "plan.h"

#include "profiler.h"

namespace cn {

Status Plan::validate() const {
  auto check = [&](int s) { return s >= 0 && s < num_slots; };
  for (auto& c : constants)
    if (!check(c.first) || !c.second) return invalid_argument("plan: bad constant slot");
  for (int f : feeds)
    if (!check(f)) return invalid_argument("plan: bad feed slot");
  for (int f : fetches)
    if (!check(f)) return invalid_argument("plan: bad fetch slot");
  const auto& table = kernel_table();
  for (size_t i = 0; i < steps.size(); ++i) {
    const PlanStep& s = steps[i];
    if (s.kernel < 0 || s.kernel >= (int)table.size()) return invalid_argument("plan: step " + std::to_string(i) + " has an unknown kernel");
    for (int x : s.in)
      if (!check(x)) return invalid_argument("plan: step " + std::to_string(i) + " reads a bad slot");
    for (int x : s.out)
      if (!check(x)) return invalid_argument("plan: step " + std::to_string(i) + " writes a bad slot");
  }
  return Status::ok();
}

void Plan::release_intermediates() {
  std::lock_guard<std::mutex> lock(mu_);
  slots_.clear();
}

Status Plan::run(const std::vector<BufferPtr>& feed_values, std::vector<BufferPtr>* fetched) {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return invalid_argument("plan: already running (await the previous run first)");
  auto serial = serial_lock(backend);
  if (feed_values.size() != feeds.size())
    return invalid_argument("plan: expected " + std::to_string(feeds.size()) + " feeds but received " +
                            std::to_string(feed_values.size()));
  if ((int)slots_.size() != num_slots) {
    slots_.assign(num_slots, nullptr);
    is_constant_.assign(num_slots, false);
  }
  for (auto& c : constants) {
    slots_[c.first] = c.second;
    is_constant_[c.first] = true;
  }
  for (size_t i = 0; i < feeds.size(); ++i) slots_[feeds[i]] = feed_values[i];
  ++runs_;
  const auto& table = kernel_table();
  // Views (Reshape outputs) from the previous run would pin their source's storage and
  // defeat reuse; they are cheap to recreate.
  for (const PlanStep& s : steps)
    if (table[s.kernel].name == "Reshape")
      for (int x : s.out)
        if (!is_constant_[x]) slots_[x] = nullptr;
  Status status;
  for (size_t i = 0; i < steps.size() && status.is_ok(); ++i) {
    const PlanStep& s = steps[i];
    KernelContext ctx;
    ctx.backend = backend;
    ctx.attrs = &s.attrs;
    ctx.run_index = runs_;
    ctx.inputs.reserve(s.in.size());
    for (int x : s.in) {
      if (!slots_[x]) {
        status = Status(StatusCode::kInternal, "plan: step " + std::to_string(i) + " (" + table[s.kernel].name +
                                                   ") reads slot " + std::to_string(x) + " before it is written");
        break;
      }
      ctx.inputs.push_back(slots_[x]);
    }
    if (!status.is_ok()) break;
    // Note [buffer reuse]: outputs move out of their slots so that a buffer held only by the
    // plan has one reference and can be overwritten in place (see KernelContext::output).
    ctx.outputs.resize(s.out.size());
    for (size_t j = 0; j < s.out.size(); ++j) ctx.outputs[j] = std::move(slots_[s.out[j]]);
    status = profiler::run_kernel(s.kernel, ctx);
    for (size_t j = 0; j < s.out.size() && j < ctx.outputs.size(); ++j) slots_[s.out[j]] = std::move(ctx.outputs[j]);
    if (!status.is_ok())
      status = Status(status.code(), status.message() + " (in plan step " + std::to_string(i) + ", " + table[s.kernel].name + ")");
  }
  if (status.is_ok()) {
    fetched->clear();
    for (int f : fetches) {
      fetched->push_back(slots_[f]);
      if (!is_constant_[f]) slots_[f] = nullptr;
    }
  }
  // Feeds belong to the caller; do not keep them alive between runs.
  for (int f : feeds)
    if (!is_constant_[f]) slots_[f] = nullptr;
  return status;
}

}  // namespace cn
