// Shape and DType: the vocabulary shared by the binding and both backends.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cn {

enum class DType : int { kFloat32 = 0, kInt32 = 1, kUint8 = 2 };

inline size_t dtype_size(DType d) { return d == DType::kUint8 ? 1 : 4; }
inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::kFloat32: return "float32";
    case DType::kInt32: return "int32";
    case DType::kUint8: return "uint8";
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
