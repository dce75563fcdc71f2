// Plan: a compiled schedule of kernels over numbered slots (constants such as weights,
// feeds such as a batch, and intermediates). Built once from a traced TS function, then
// run many times; intermediate buffers are kept and reused between runs. One run crosses
// from JS into native code once, and can run on a worker thread.
#pragma once
#include <mutex>
#include <vector>

#include "../ops/kernel.h"

namespace cn {

struct PlanStep {
  int kernel = -1;
  std::vector<int> in, out;
  Attrs attrs;
};

class Plan {
 public:
  Backend* backend = nullptr;  // for kernels without inputs (fills, random)
  int num_slots = 0;
  std::vector<std::pair<int, BufferPtr>> constants;
  std::vector<int> feeds, fetches;
  std::vector<PlanStep> steps;

  Status validate() const;
  // Runs every step; fetched receives the fetch slots' buffers, which the plan then
  // forgets (the caller owns them). Thread-safe: concurrent runs are refused.
  Status run(const std::vector<BufferPtr>& feed_values, std::vector<BufferPtr>* fetched);
  void release_intermediates();

 private:
  std::mutex mu_;
  std::vector<BufferPtr> slots_;
  std::vector<bool> is_constant_;
  uint64_t runs_ = 0;
};

}  // namespace cn
