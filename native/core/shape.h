// Shape and DType: the vocabulary shared by the binding and both backends.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace cn
