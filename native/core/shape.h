// Shape and DType: the vocabulary shared by the binding and both backends, and the checked
// size arithmetic every buffer and every op's output extents go through.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace cn {

// kBFloat16 and kFloat16 are storage types (Note [reduced precision] in native/ops/typed_kernels.h).
enum class DType : int { kFloat32 = 0, kInt32 = 1, kUint8 = 2, kBFloat16 = 3, kFloat16 = 4 };

inline size_t dtype_size(DType d) {
  return d == DType::kUint8 ? 1 : (d == DType::kBFloat16 || d == DType::kFloat16) ? 2 : 4;
}
inline bool is_reduced_precision(DType d) { return d == DType::kBFloat16 || d == DType::kFloat16; }
inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::kFloat32: return "float32";
    case DType::kInt32: return "int32";
    case DType::kUint8: return "uint8";
    case DType::kBFloat16: return "bfloat16";
    case DType::kFloat16: return "float16";
  }
  return "?";
}

using Shape = std::vector<int64_t>;

// Note [size limits]: a tensor holds at most kMaxElements = 2^53 - 1 elements (JavaScript's
// Number.MAX_SAFE_INTEGER, so every count and extent the binding hands to JS is exact), and
// no dimension is negative. Every buffer is made through make_buffer, which checks this with
// overflow-checked products, so num_elements() below never wraps for a live buffer's shape.
// Shapes that come from user attributes (output sizes, reshape targets, windows) are
// checked with checked_num_elements() / checked_mul() before anything is allocated.
constexpr int64_t kMaxElements = (int64_t(1) << 53) - 1;

// *r = a * b, false when the product overflows int64.
inline bool checked_mul(int64_t a, int64_t b, int64_t* r) { return !__builtin_mul_overflow(a, b, r); }
// *r = a + b, false when the sum overflows int64.
inline bool checked_add(int64_t a, int64_t b, int64_t* r) { return !__builtin_add_overflow(a, b, r); }

// Unchecked product: only for shapes already validated (live buffers).
inline int64_t num_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ",";
    r += std::to_string(s[i]);
  }
  return r + "]";
}

// The element count of s, or ERR_INVALID_ARGUMENT naming `what` (e.g. "Fill: output shape")
// when a dimension is negative or the count exceeds kMaxElements (Note [size limits]).
inline Status checked_num_elements(const Shape& s, const std::string& what, int64_t* n) {
  int64_t count = 1;
  bool over = false, zero = false;
  for (int64_t d : s) {
    if (d == 0) zero = true;
    if (d < 0) return invalid_argument(what + ": expected non-negative dimensions but received " + shape_str(s));
    if (d > kMaxElements) over = true;
    if (!over && !checked_mul(count, d, &count)) over = true;
  }
  // Every dimension within the limit and one of them 0: an empty tensor, whatever the rest.
  if (zero) {
    bool dim_over = false;
    for (int64_t d : s) dim_over = dim_over || d > kMaxElements;
    if (!dim_over) over = false, count = 0;
  }
  if (over || count > kMaxElements)
    return invalid_argument(what + ": expected at most 2^53-1 elements but received shape " + shape_str(s));
  *n = count;
  return Status::ok();
}

}  // namespace cn
