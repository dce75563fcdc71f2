// Status: the error value every native function returns. Native code never throws
// through N-API and never aborts; the binding turns a failed Status into a JS error
// whose .code is the code string below.
#pragma once
#include <string>
#include <utility>

namespace cn {

enum class StatusCode { kOk, kInvalidArgument, kOutOfMemory, kBackendError, kUnavailable, kInternal,
                        kNotSupported };

inline const char* status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "ERR_INVALID_ARGUMENT";
    case StatusCode::kOutOfMemory: return "ERR_OUT_OF_MEMORY";
    case StatusCode::kBackendError: return "ERR_BACKEND";
    case StatusCode::kUnavailable: return "ERR_BACKEND_UNAVAILABLE";
    case StatusCode::kInternal: return "ERR_INTERNAL";
    case StatusCode::kNotSupported: return "ERR_NOT_SUPPORTED";
  }
  return "ERR_INTERNAL";
}

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status backend_error(std::string m) { return Status(StatusCode::kBackendError, std::move(m)); }
inline Status out_of_memory(std::string m) { return Status(StatusCode::kOutOfMemory, std::move(m)); }
inline Status not_supported(std::string m) { return Status(StatusCode::kNotSupported, std::move(m)); }
inline Status unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
inline Status internal_error(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

}  // namespace cn

// Propagate a failed Status to the caller.
#define CN_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::cn::Status _cn_s = (expr);            \
    if (!_cn_s.is_ok()) return _cn_s;       \
  } while (0)
