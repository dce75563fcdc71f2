// The backends by name (backend_registry.h).
#include "backend_registry.h"

#include "../cpu/cpu_backend.h"
#include "../cuda/cuda_probe.h"

namespace cn {

Backend* backend_by_name(const std::string& name, Status* why) {
  if (name == "cpu") return cpu_backend();
  if (name == "cuda") {
    Backend* b = cuda_backend();
    if (!b) *why = unavailable("cuda backend is not available: " + cuda_probe().reason);
    return b;
  }
  *why = invalid_argument("backend: expected 'cpu' or 'cuda' but received '" + name + "'");
  return nullptr;
}

}  // namespace cn
