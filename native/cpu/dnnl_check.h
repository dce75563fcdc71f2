// Error plumbing for the oneDNN backend. oneDNN's C++ API reports failure by throwing
// dnnl::error; native code must return a cn::Status instead. Two pieces:
//   CN_DNNL(expr)       evaluates one oneDNN call and, if it throws, rethrows a DnnlFailure
//                       that remembers the call's text and file:line;
//   dnnl_guard(op, ...) runs a whole backend method body and turns any exception into a
//                       Status that names the op, the failing call, file:line and the shapes.
// Together they guarantee that no exception escapes a CpuBackend method.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/dnnl/dnnl_debug.h>

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "../core/status.h"

namespace cn {
namespace cpu {

// A dnnl::error annotated with the call that raised it.
struct DnnlFailure : std::exception {
  std::string call, where, detail;
  dnnl_status_t status;
  DnnlFailure(std::string c, std::string w, dnnl_status_t s, std::string d)
      : call(std::move(c)), where(std::move(w)), detail(std::move(d)), status(s) {}
  const char* what() const noexcept override { return detail.c_str(); }
};

inline const char* base_name(const char* path) {
  const char* b = path;
  for (const char* s = path; *s; ++s)
    if (*s == '/' || *s == '\\') b = s + 1;
  return b;
}

template <class F>
decltype(auto) dnnl_call(F&& f, const char* call, const char* file, int line) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw DnnlFailure(call, std::string(base_name(file)) + ":" + std::to_string(line), e.status,
                      e.what() ? e.what() : "");
  }
}

// Runs `body` (returning Status); `shapes` (returning std::string) describes the operands
// and is only evaluated on failure.
template <class Body, class Shapes>
Status dnnl_guard(const char* op, Shapes&& shapes, Body&& body) noexcept {
  auto describe = [&]() -> std::string {
    try {
      return shapes();
    } catch (...) {
      return "?";
    }
  };
  try {
    return body();
  } catch (const DnnlFailure& e) {
    try {
      return backend_error(std::string(op) + ": oneDNN call `" + e.call + "` failed at " +
                           e.where + " (" + dnnl_status2str(e.status) + ": " + e.detail +
                           ") for " + describe());
    } catch (...) {
      return Status(StatusCode::kBackendError, "oneDNN call failed");
    }
  } catch (const dnnl::error& e) {
    try {
      return backend_error(std::string(op) + ": oneDNN failed (" + dnnl_status2str(e.status) +
                           ": " + (e.what() ? e.what() : "") + ") for " + describe());
    } catch (...) {
      return Status(StatusCode::kBackendError, "oneDNN call failed");
    }
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, std::string(op) + ": out of host memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, std::string(op) + ": " + e.what());
  } catch (...) {
    return Status(StatusCode::kInternal, std::string(op) + ": unknown exception");
  }
}

}  // namespace cpu
}  // namespace cn

// Checks one oneDNN call: CN_DNNL(pd.weights_desc()), CN_DNNL(prim.execute(s, args)).
#define CN_DNNL(expr) \
  ::cn::cpu::dnnl_call([&]() -> decltype(auto) { return expr; }, #expr, __FILE__, __LINE__)
