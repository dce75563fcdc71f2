// The backends by name ('cpu', 'cuda'): the one place that knows which backends exist and
// why cuda may be unavailable. Used by the bindings (tensor creation, plans) and the
// runtime; independent of Node-API.
#pragma once
#include <string>

#include "../core/backend.h"
#include "../core/status.h"

namespace cn {

// The backend called `name`, or nullptr with *why set (an unknown name, or cuda that cannot
// run here and the reason).
Backend* backend_by_name(const std::string& name, Status* why);

}  // namespace cn
